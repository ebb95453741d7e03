//! LiveChannels (`?live`): PutLiveChannel, PutLiveChannelStatus, GetLiveChannelInfo,
//! GetLiveChannelStat, GetLiveChannelHistory, DeleteLiveChannel and ListLiveChannel. The
//! configuration is stored and reported; no RTMP ingest runs, so the stat is always `Idle` and the
//! history empty (docs/oss.md, "Live channels").

use axum::body::Body;
use rolestack_core::endpoints;
use rolestack_core::oss::live_channel::{ChannelStatus, LiveChannel, LiveChannelConfiguration, Snapshot};
use rolestack_core::oss::OssResult;
use serde::Serialize;

use super::super::respond::Reply;
use super::super::xml::{self, iso8601, to_xml};
use super::listing::limit;
use super::{read_document, Ctx};

#[derive(Serialize)]
struct Urls {
    #[serde(rename = "Url")]
    url: String,
}

/// The ingest and play URLs OSS hands out: on the bucket's virtual-hosted name of its region's
/// public endpoint (nothing listens for RTMP there).
fn urls(bucket: &str, region: &str, c: &LiveChannel) -> (Urls, Urls) {
    let host = format!("{bucket}.{}", endpoints::oss_endpoint_name(region, false));
    (Urls { url: format!("rtmp://{host}/live/{}", c.name) }, Urls { url: format!("http://{host}/{}/{}", c.name, c.playlist_name) })
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct CreateLiveChannelResult {
    publish_urls: Urls,
    play_urls: Urls,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Target {
    #[serde(rename = "Type")]
    kind: String,
    frag_duration: u32,
    frag_count: u32,
    playlist_name: String,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Configuration {
    description: String,
    status: &'static str,
    target: Target,
    #[serde(skip_serializing_if = "Option::is_none")]
    snapshot: Option<Snapshot>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct ListedChannel {
    name: String,
    description: String,
    status: &'static str,
    last_modified: String,
    publish_urls: Urls,
    play_urls: Urls,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct ListLiveChannelResult {
    prefix: String,
    marker: String,
    max_keys: usize,
    is_truncated: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_marker: Option<String>,
    live_channel: Vec<ListedChannel>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct LiveChannelStat {
    status: &'static str,
}

#[derive(Serialize)]
struct LiveChannelHistory {}

pub async fn put_live_channel(cx: Ctx, body: Body) -> OssResult<Reply> {
    let config: LiveChannelConfiguration = xml::parse(&read_document(&cx.req, body).await?)?;
    let (channel, region) = cx.call(move |oss, call| oss.put_live_channel(call, config)).await?;
    let (publish_urls, play_urls) = urls(cx.req.bucket(), &region, &channel);
    Ok(Reply::xml(to_xml("CreateLiveChannelResult", &CreateLiveChannelResult { publish_urls, play_urls })))
}

pub async fn put_live_channel_status(cx: Ctx, _body: Body) -> OssResult<Reply> {
    let status = ChannelStatus::parse(cx.req.param("status").unwrap_or(""))?;
    cx.call(move |oss, call| oss.put_live_channel_status(call, status)).await?;
    Ok(Reply::empty(200))
}

pub async fn get_live_channel_info(cx: Ctx, _body: Body) -> OssResult<Reply> {
    let c = cx.call(|oss, call| oss.get_live_channel(call)).await?;
    let config = Configuration {
        description: c.description,
        status: c.status.as_str(),
        target: Target { kind: c.target_type, frag_duration: c.frag_duration, frag_count: c.frag_count, playlist_name: c.playlist_name },
        snapshot: c.snapshot,
    };
    Ok(Reply::xml(to_xml("LiveChannelConfiguration", &config)))
}

/// Nothing is ever pushed: a channel is `Idle` (OSS's state for a channel with no stream).
pub async fn get_live_channel_stat(cx: Ctx, _body: Body) -> OssResult<Reply> {
    cx.call(|oss, call| oss.get_live_channel(call)).await?;
    Ok(Reply::xml(to_xml("LiveChannelStat", &LiveChannelStat { status: "Idle" })))
}

/// No pushing sessions, so no `LiveRecord`s.
pub async fn get_live_channel_history(cx: Ctx, _body: Body) -> OssResult<Reply> {
    cx.call(|oss, call| oss.get_live_channel(call)).await?;
    Ok(Reply::xml(to_xml("LiveChannelHistory", &LiveChannelHistory {})))
}

pub async fn delete_live_channel(cx: Ctx, _body: Body) -> OssResult<Reply> {
    cx.call(|oss, call| oss.delete_live_channel(call)).await?;
    Ok(Reply::empty(204))
}

pub async fn list_live_channels(cx: Ctx, _body: Body) -> OssResult<Reply> {
    let prefix = cx.req.param("prefix").unwrap_or("").to_string();
    let marker = cx.req.param("marker").unwrap_or("").to_string();
    let max = limit(cx.req.param("max-keys"), "max-keys", 100)?;
    let (p, m) = (prefix.clone(), marker.clone());
    let (channels, truncated, region) = cx.call(move |oss, call| oss.list_live_channels(call, &p, &m, max)).await?;
    let bucket = cx.req.bucket();
    let next_marker = truncated.then(|| channels.last().map(|c| c.name.clone())).flatten();
    let live_channel = channels
        .into_iter()
        .map(|c| {
            let (publish_urls, play_urls) = urls(bucket, &region, &c);
            ListedChannel {
                name: c.name,
                description: c.description,
                status: c.status.as_str(),
                last_modified: iso8601(c.last_modified),
                publish_urls,
                play_urls,
            }
        })
        .collect();
    let result = ListLiveChannelResult { prefix, marker, max_keys: max, is_truncated: truncated, next_marker, live_channel };
    Ok(Reply::xml(to_xml("ListLiveChannelResult", &result)))
}
