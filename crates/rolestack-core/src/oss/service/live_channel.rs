//! LiveChannel operations: configuration records of kind `LiveChannel` scoped by the bucket,
//! each authorized on `acs:oss:*:<owner>:<bucket>/<channel>` (ListLiveChannel on the bucket).
//!
//! A record is stored under the lower-case hex of the channel name's bytes ([`record_name`]):
//! channel names are case-sensitive while the store's name index folds ASCII case, and hex
//! digits sort like the bytes they encode, so prefix, marker and order map onto the store's.

use super::super::access::Target;
use super::super::error::{OssError, OssResult};
use super::super::live_channel::{ChannelStatus, LiveChannel, LiveChannelConfiguration};
use super::{load_bucket, Call, Oss};
use crate::model::Record as _;
use crate::store::Tx;

/// The store name of a channel: lower-case hex of its UTF-8 bytes.
fn record_name(channel: &str) -> String {
    hex::encode(channel.as_bytes())
}

fn load_channel(tx: &mut dyn Tx, bucket: &str, name: &str) -> OssResult<LiveChannel> {
    tx.get_rec::<LiveChannel>(bucket, &record_name(name))?.ok_or_else(|| OssError::NoSuchLiveChannel { channel: name.to_string() })
}

impl Oss {
    /// Creates the channel `call.key`, or replaces its configuration; with the bucket's region
    /// (the channel's URLs name its endpoint).
    pub fn put_live_channel(&self, call: Call<'_>, config: LiveChannelConfiguration) -> OssResult<(LiveChannel, String)> {
        let channel = config.validate(call.key, self.now())?;
        crate::store::retry(|| {
            let mut tx = self.tx()?;
            let bucket = load_bucket(&mut *tx, call.bucket)?;
            call.authorize(&mut *tx, Target::object(&bucket, call.key))?;
            let key = record_name(call.key);
            if !tx.update_rec(call.bucket, &key, &channel)? {
                tx.insert_rec(call.bucket, &key, &channel)?;
            }
            tx.commit()?;
            Ok((channel.clone(), bucket.region.clone()))
        })
    }

    pub fn put_live_channel_status(&self, call: Call<'_>, status: ChannelStatus) -> OssResult<()> {
        crate::store::retry(|| {
            let mut tx = self.tx()?;
            let bucket = load_bucket(&mut *tx, call.bucket)?;
            call.authorize(&mut *tx, Target::object(&bucket, call.key))?;
            let mut channel = load_channel(&mut *tx, call.bucket, call.key)?;
            channel.status = status;
            channel.last_modified = self.now();
            tx.update_rec(call.bucket, &record_name(call.key), &channel)?;
            tx.commit()?;
            Ok(())
        })
    }

    /// GetLiveChannelInfo, GetLiveChannelStat and GetLiveChannelHistory: the channel's record.
    pub fn get_live_channel(&self, call: Call<'_>) -> OssResult<LiveChannel> {
        let mut tx = self.read_tx()?;
        let bucket = load_bucket(&mut *tx, call.bucket)?;
        call.authorize(&mut *tx, Target::object(&bucket, call.key))?;
        load_channel(&mut *tx, call.bucket, call.key)
    }

    pub fn delete_live_channel(&self, call: Call<'_>) -> OssResult<()> {
        crate::store::retry(|| {
            let mut tx = self.tx()?;
            let bucket = load_bucket(&mut *tx, call.bucket)?;
            call.authorize(&mut *tx, Target::object(&bucket, call.key))?;
            load_channel(&mut *tx, call.bucket, call.key)?;
            tx.delete(LiveChannel::KIND, call.bucket, &record_name(call.key))?;
            tx.commit()?;
            Ok(())
        })
    }

    /// The bucket's channels whose names start with `prefix` and sort (by bytes) after `marker`,
    /// at most `max`; whether more follow; and the bucket's region.
    pub fn list_live_channels(
        &self,
        call: Call<'_>,
        prefix: &str,
        marker: &str,
        max: usize,
    ) -> OssResult<(Vec<LiveChannel>, bool, String)> {
        let mut tx = self.read_tx()?;
        let bucket = load_bucket(&mut *tx, call.bucket)?;
        call.authorize(&mut *tx, Target::bucket(&bucket))?;
        let after = (!marker.is_empty()).then(|| record_name(marker));
        let mut channels = tx.list_rec::<LiveChannel>(call.bucket, &record_name(prefix), after.as_deref(), max + 1)?;
        let truncated = channels.len() > max;
        channels.truncate(max);
        Ok((channels, truncated, bucket.region))
    }
}

/// Whether a bucket still has channels (DeleteBucket refuses it then, as OSS does).
pub(super) fn has_channels(tx: &mut dyn Tx, bucket: &str) -> OssResult<bool> {
    Ok(tx.count(LiveChannel::KIND, bucket, "")? > 0)
}
