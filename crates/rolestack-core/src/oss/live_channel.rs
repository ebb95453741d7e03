//! LiveChannels: a bucket's RTMP ingest points (PutLiveChannel, PutLiveChannelStatus,
//! GetLiveChannelInfo, GetLiveChannelStat, GetLiveChannelHistory, ListLiveChannel,
//! DeleteLiveChannel). rolestack keeps the configuration as OSS validates and reports it; it runs
//! no RTMP ingest, so a channel is always `Idle` and has no pushing history (docs/oss.md,
//! "Live channels").

use serde::{Deserialize, Serialize};

use super::error::{OssError, OssResult};
use crate::model::Record;
use crate::store::Kind;

/// `<LiveChannelConfiguration>` as a request sends it (every value as text; checked by
/// [`LiveChannelConfiguration::validate`]).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct LiveChannelConfiguration {
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub target: Option<TargetConfiguration>,
    #[serde(default)]
    pub snapshot: Option<Snapshot>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TargetConfiguration {
    #[serde(rename = "Type", default)]
    pub kind: Option<String>,
    #[serde(default)]
    pub frag_duration: Option<String>,
    #[serde(default)]
    pub frag_count: Option<String>,
    #[serde(default)]
    pub playlist_name: Option<String>,
}

/// The snapshot settings (kept and reported; rolestack takes no snapshots).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Snapshot {
    #[serde(default)]
    pub role_name: String,
    #[serde(default)]
    pub dest_bucket: String,
    #[serde(default)]
    pub notify_topic: String,
    #[serde(default)]
    pub interval: String,
}

/// Whether a channel accepts ingest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChannelStatus {
    Enabled,
    Disabled,
}

impl ChannelStatus {
    pub fn parse(s: &str) -> OssResult<Self> {
        match s {
            "enabled" => Ok(ChannelStatus::Enabled),
            "disabled" => Ok(ChannelStatus::Disabled),
            other => Err(invalid(format!("The live channel status {other:?} is not valid; it is enabled or disabled."), EC_STATUS)),
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            ChannelStatus::Enabled => "enabled",
            ChannelStatus::Disabled => "disabled",
        }
    }
}

/// A stored LiveChannel (a record of kind [`Kind::LiveChannel`], scoped by its bucket).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveChannel {
    pub name: String,
    pub description: String,
    pub status: ChannelStatus,
    /// HLS, the only type OSS has.
    pub target_type: String,
    pub frag_duration: u32,
    pub frag_count: u32,
    pub playlist_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snapshot: Option<Snapshot>,
    /// Unix seconds of the last PutLiveChannel / PutLiveChannelStatus.
    pub last_modified: i64,
}

impl Record for LiveChannel {
    const KIND: Kind = Kind::LiveChannel;
}

// The ECs OSS documents for PutLiveChannel's checks (0044 is the LiveChannel family).
// UNVERIFIED: only the PlaylistName ones are documented per field; the others use the family's
// argument code.
const EC_ARGUMENT: &str = "0044-00000002";
const EC_STATUS: &str = EC_ARGUMENT;
const EC_PLAYLIST_LENGTH: &str = "0044-00000017";
const EC_PLAYLIST_SUFFIX: &str = "0044-00000018";

fn invalid(message: String, ec: &'static str) -> OssError {
    OssError::InvalidLiveChannel { message, ec }
}

/// Channel names follow object-name rules and contain no `/`.
pub fn validate_name(name: &str) -> OssResult<()> {
    super::model::validate_key(name)?;
    if name.contains('/') {
        return Err(invalid(format!("The live channel name {name:?} may not contain '/'."), EC_ARGUMENT));
    }
    Ok(())
}

/// An integer of 1 to 100 (FragDuration, FragCount).
fn one_to_hundred(field: &str, value: &str) -> OssResult<u32> {
    value
        .trim()
        .parse::<u32>()
        .ok()
        .filter(|n| (1..=100).contains(n))
        .ok_or_else(|| invalid(format!("{field} {value:?} is not an integer from 1 to 100."), EC_ARGUMENT))
}

impl LiveChannelConfiguration {
    /// The channel this configuration describes, with OSS's defaults (status `enabled`,
    /// FragDuration 5 and FragCount 3 when both are absent, `playlist.m3u8`).
    pub fn validate(self, name: &str, now: i64) -> OssResult<LiveChannel> {
        validate_name(name)?;
        let description = self.description.unwrap_or_default();
        if description.len() > 128 {
            return Err(invalid("The live channel description is longer than 128 bytes.".into(), EC_ARGUMENT));
        }
        let status = match self.status.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            None => ChannelStatus::Enabled,
            Some(s) => ChannelStatus::parse(s)?,
        };
        let target = self.target.ok_or_else(|| OssError::MalformedXml("LiveChannelConfiguration has no Target.".into()))?;
        let target_type = target.kind.unwrap_or_default();
        if target_type != "HLS" {
            return Err(invalid(format!("The live channel target type {target_type:?} is not valid; it is HLS."), EC_ARGUMENT));
        }
        let (frag_duration, frag_count) = match (target.frag_duration.as_deref(), target.frag_count.as_deref()) {
            (None, None) => (5, 3),
            (Some(d), Some(c)) => (one_to_hundred("FragDuration", d)?, one_to_hundred("FragCount", c)?),
            _ => return Err(invalid("FragDuration and FragCount are given together or not at all.".into(), EC_ARGUMENT)),
        };
        let playlist_name = target.playlist_name.filter(|p| !p.is_empty()).unwrap_or_else(|| "playlist.m3u8".into());
        if !(6..=128).contains(&playlist_name.len()) || playlist_name.contains('/') {
            return Err(invalid(format!("PlaylistName {playlist_name:?} is not 6 to 128 characters without '/'."), EC_PLAYLIST_LENGTH));
        }
        if !playlist_name.ends_with(".m3u8") {
            return Err(invalid(format!("PlaylistName {playlist_name:?} does not end with .m3u8."), EC_PLAYLIST_SUFFIX));
        }
        Ok(LiveChannel {
            name: name.to_string(),
            description,
            status,
            target_type,
            frag_duration,
            frag_count,
            playlist_name,
            snapshot: self.snapshot,
            last_modified: now,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(duration: Option<&str>, count: Option<&str>, playlist: Option<&str>) -> LiveChannelConfiguration {
        LiveChannelConfiguration {
            description: Some("d".into()),
            status: None,
            target: Some(TargetConfiguration {
                kind: Some("HLS".into()),
                frag_duration: duration.map(str::to_string),
                frag_count: count.map(str::to_string),
                playlist_name: playlist.map(str::to_string),
            }),
            snapshot: None,
        }
    }

    #[test]
    fn defaults_and_limits() {
        let c = config(None, None, None).validate("ch", 1).unwrap();
        assert_eq!((c.frag_duration, c.frag_count, c.playlist_name.as_str(), c.status), (5, 3, "playlist.m3u8", ChannelStatus::Enabled));
        assert!(config(Some("100"), Some("1"), Some("a.m3u8")).validate("ch", 1).is_ok());
        for (d, c, p) in [
            (Some("0"), Some("3"), None),
            (Some("101"), Some("3"), None),
            (Some("abc"), Some("3"), None),
            (Some("5"), None, None),
            (None, None, Some("m.m3u")),
            (None, None, Some("abc.text")),
            (None, None, Some("a/b.m3u8")),
        ] {
            assert!(matches!(config(d, c, p).validate("ch", 1), Err(OssError::InvalidLiveChannel { .. })), "{d:?} {c:?} {p:?}");
        }
        assert!(config(None, None, None).validate("a/b", 1).is_err());
        assert!(config(None, None, None).validate("", 1).is_err());
    }
}
