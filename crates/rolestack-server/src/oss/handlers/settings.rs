//! Bucket settings: `?encryption` (Put/Get/DeleteBucketEncryption), `?logging`
//! (Put/Get/DeleteBucketLogging), `?stat` (GetBucketStat), `?qos`
//! (Put/GetBucketStorageCapacity) and `?resourceGroup` (Put/GetBucketResourceGroup).

use axum::body::Body;
use rolestack_core::oss::bucket_config::{Encryption, Logging};
use rolestack_core::oss::OssResult;

use super::super::respond::Reply;
use super::super::xml::{self, to_xml};
use super::{read_document, Ctx};

pub async fn put_bucket_encryption(cx: Ctx, body: Body) -> OssResult<Reply> {
    let doc: xml::ServerSideEncryptionRule = xml::parse(&read_document(&cx.req, body).await?)?;
    let a = doc.apply;
    let encryption = Encryption::new(&a.sse_algorithm, a.kms_master_key_id.as_deref(), a.kms_data_encryption.as_deref())?;
    cx.call(move |oss, call| oss.put_bucket_encryption(call, encryption)).await?;
    Ok(Reply::empty(200))
}

pub async fn get_bucket_encryption(cx: Ctx, _body: Body) -> OssResult<Reply> {
    let e = cx.call(|oss, call| oss.get_bucket_encryption(call)).await?;
    let doc = xml::ServerSideEncryptionRule { apply: xml::EncryptionByDefault::of(Some(&e)) };
    Ok(Reply::xml(to_xml("ServerSideEncryptionRule", &doc)))
}

pub async fn delete_bucket_encryption(cx: Ctx, _body: Body) -> OssResult<Reply> {
    cx.call(|oss, call| oss.delete_bucket_encryption(call)).await?;
    Ok(Reply::empty(204))
}

pub async fn put_bucket_logging(cx: Ctx, body: Body) -> OssResult<Reply> {
    let doc: xml::BucketLoggingStatus = xml::parse(&read_document(&cx.req, body).await?)?;
    let logging = doc.logging_enabled.map(|l| Logging::new(&l.target_bucket, &l.target_prefix)).transpose()?;
    cx.call(move |oss, call| oss.put_bucket_logging(call, logging)).await?;
    Ok(Reply::empty(200))
}

pub async fn get_bucket_logging(cx: Ctx, _body: Body) -> OssResult<Reply> {
    let logging = cx.call(|oss, call| oss.get_bucket_logging(call)).await?;
    let doc = xml::BucketLoggingStatus {
        logging_enabled: logging.map(|l| xml::LoggingEnabled { target_bucket: l.target_bucket, target_prefix: l.target_prefix }),
    };
    Ok(Reply::xml(to_xml("BucketLoggingStatus", &doc)))
}

pub async fn delete_bucket_logging(cx: Ctx, _body: Body) -> OssResult<Reply> {
    cx.call(|oss, call| oss.delete_bucket_logging(call)).await?;
    Ok(Reply::empty(204))
}

pub async fn get_bucket_stat(cx: Ctx, _body: Body) -> OssResult<Reply> {
    let s = cx.call(|oss, call| oss.bucket_stat(call)).await?;
    let class = |name: &str| s.class(name);
    let (standard, ia, archive, cold, deep) =
        (class("Standard"), class("IA"), class("Archive"), class("ColdArchive"), class("DeepColdArchive"));
    let doc = xml::BucketStat {
        storage: s.storage,
        object_count: s.object_count,
        multipart_upload_count: s.multipart_upload_count,
        live_channel_count: s.live_channel_count,
        last_modified_time: s.last_modified,
        standard_storage: standard.0,
        standard_object_count: standard.1,
        infrequent_access_storage: ia.0,
        infrequent_access_real_storage: ia.0,
        infrequent_access_object_count: ia.1,
        archive_storage: archive.0,
        archive_real_storage: archive.0,
        archive_object_count: archive.1,
        cold_archive_storage: cold.0,
        cold_archive_real_storage: cold.0,
        cold_archive_object_count: cold.1,
        deep_cold_archive_storage: deep.0,
        deep_cold_archive_real_storage: deep.0,
        deep_cold_archive_object_count: deep.1,
        multipart_part_count: s.multipart_part_count,
        delete_marker_count: s.delete_marker_count,
    };
    Ok(Reply::xml(to_xml("BucketStat", &doc)))
}

pub async fn put_bucket_storage_capacity(cx: Ctx, body: Body) -> OssResult<Reply> {
    let doc: xml::BucketUserQos = xml::parse(&read_document(&cx.req, body).await?)?;
    cx.call(move |oss, call| oss.put_bucket_storage_capacity(call, doc.storage_capacity)).await?;
    Ok(Reply::empty(200))
}

pub async fn get_bucket_storage_capacity(cx: Ctx, _body: Body) -> OssResult<Reply> {
    let gb = cx.call(|oss, call| oss.get_bucket_storage_capacity(call)).await?;
    Ok(Reply::xml(to_xml("BucketUserQos", &xml::BucketUserQos { storage_capacity: gb })))
}

pub async fn put_bucket_resource_group(cx: Ctx, body: Body) -> OssResult<Reply> {
    let doc: xml::BucketResourceGroupConfiguration = xml::parse(&read_document(&cx.req, body).await?)?;
    cx.call(move |oss, call| oss.put_bucket_resource_group(call, &doc.resource_group_id)).await?;
    Ok(Reply::empty(200))
}

pub async fn get_bucket_resource_group(cx: Ctx, _body: Body) -> OssResult<Reply> {
    let id = cx.call(|oss, call| oss.get_bucket_resource_group(call)).await?;
    Ok(Reply::xml(to_xml("BucketResourceGroupConfiguration", &xml::BucketResourceGroupConfiguration { resource_group_id: id })))
}
