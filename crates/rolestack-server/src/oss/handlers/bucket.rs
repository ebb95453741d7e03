//! The service and buckets: ListBuckets, PutBucket, DeleteBucket, HeadBucket, GetBucketInfo,
//! GetBucketLocation.

use axum::body::Body;
use rolestack_core::endpoints;
use rolestack_core::oss::bucket_config::resource_group_id;
use rolestack_core::oss::listing::parse_max_keys;
use rolestack_core::oss::model::DEFAULT_REGION;
use rolestack_core::oss::service::{BucketQuery, NewBucket};
use rolestack_core::oss::{OssError, OssResult};

use super::super::headers;
use super::super::respond::Reply;
use super::super::xml::{self, iso8601, to_xml};
use super::{read_document, Ctx};

pub async fn list_buckets(cx: Ctx, _body: Body) -> OssResult<Reply> {
    let req = cx.req.clone();
    let paged = req.has("prefix") || req.has("marker") || req.has("max-keys");
    let prefix = req.param("prefix").unwrap_or_default().to_string();
    let marker = req.param("marker").unwrap_or_default().to_string();
    let max_keys = parse_max_keys(req.param("max-keys"), (!req.s3).then_some("0017-00000289"))?;
    let query = BucketQuery {
        prefix: prefix.clone(),
        marker: marker.clone(),
        max_keys,
        tag: req.param("tag-key").map(|k| (k.to_string(), req.param("tag-value").map(str::to_string))),
        resource_group: req.header("x-oss-resource-group-id").map(str::to_string),
    };
    let listing = cx.call(move |oss, call| oss.list_buckets(call, &query)).await?;
    let result = xml::ListAllMyBucketsResult {
        prefix: paged.then_some(prefix),
        marker: paged.then_some(marker),
        max_keys: paged.then_some(max_keys),
        is_truncated: paged.then_some(listing.truncated),
        next_marker: listing.next_marker.clone(),
        owner: xml::Owner::of(&listing.owner),
        buckets: xml::Buckets {
            bucket: listing
                .buckets
                .iter()
                .map(|b| {
                    let (extranet, intranet) = req.bucket_endpoints(b);
                    xml::BucketEntry {
                        name: b.name.clone(),
                        location: b.location(),
                        creation_date: iso8601(b.created),
                        extranet_endpoint: extranet,
                        intranet_endpoint: intranet,
                        storage_class: b.storage_class.clone(),
                        region: b.region.clone(),
                        resource_group_id: b.resource_group(),
                    }
                })
                .collect(),
        },
    };
    Ok(Reply::xml(to_xml("ListAllMyBucketsResult", &result)))
}

pub async fn put_bucket(cx: Ctx, body: Body) -> OssResult<Reply> {
    let body = read_document(&cx.req, body).await?;
    let config: xml::CreateBucketConfiguration =
        if body.iter().all(u8::is_ascii_whitespace) { Default::default() } else { xml::parse(&body)? };
    let acl = headers::acl(&cx.req, "x-oss-acl", false)?;
    let region = bucket_region(cx.req.region, config.location_constraint.as_deref())?.to_string();
    let encryption = headers::encryption(&cx.req)?;
    let resource_group_id = cx.req.header("x-oss-resource-group-id").map(resource_group_id).transpose()?;
    let new = NewBucket { region, acl, storage_class: config.storage_class, encryption, resource_group_id };
    cx.call(move |oss, call| oss.put_bucket(call, new)).await?;
    Ok(Reply::empty(200).header("location", format!("/{}", cx.req.bucket())))
}

/// The region a new bucket is made in: the endpoint's (a `LocationConstraint` must agree with
/// it), else the `LocationConstraint`'s, else the default region.
fn bucket_region(endpoint: Option<&'static str>, constraint: Option<&str>) -> OssResult<&'static str> {
    let constraint = match constraint.map(str::trim).filter(|c| !c.is_empty()) {
        None => None,
        Some(c) => {
            let id = c.strip_prefix("oss-").unwrap_or(c);
            Some(rolestack_core::ecs::catalogue::region(id).map(|r| r.id).ok_or_else(|| {
                OssError::InvalidLocationConstraint(format!(
                    "{c:?} is not a region rolestack serves (use oss-<region>, e.g. oss-cn-hangzhou)"
                ))
            })?)
        }
    };
    match (endpoint, constraint) {
        (Some(e), Some(c)) if e != c => Err(OssError::InvalidLocationConstraint(format!(
            "the request was sent to the {e} endpoint but asks for a bucket in oss-{c}; send it to {}",
            endpoints::oss_endpoint_name(c, false)
        ))),
        (Some(e), _) => Ok(e),
        (None, Some(c)) => Ok(c),
        (None, None) => Ok(DEFAULT_REGION),
    }
}

pub async fn delete_bucket(cx: Ctx, _body: Body) -> OssResult<Reply> {
    cx.call(|oss, call| oss.delete_bucket(call)).await?;
    Ok(Reply::empty(204))
}

pub async fn head_bucket(cx: Ctx, _body: Body) -> OssResult<Reply> {
    cx.call(|oss, call| oss.bucket(call)).await?;
    Ok(Reply::empty(200))
}

pub async fn get_bucket_info(cx: Ctx, _body: Body) -> OssResult<Reply> {
    let b = cx.call(|oss, call| oss.bucket(call)).await?;
    let (extranet, intranet) = cx.req.bucket_endpoints(&b);
    let info = xml::BucketInfo {
        bucket: xml::BucketDetail {
            name: b.name.clone(),
            creation_date: iso8601(b.created),
            storage_class: b.storage_class.clone(),
            extranet_endpoint: extranet,
            intranet_endpoint: intranet,
            location: b.location(),
            region: b.region.clone(),
            data_redundancy_type: "LRS".into(),
            owner: xml::Owner::of(&b.owner),
            access_control_list: xml::AccessControlList { grant: b.acl.as_str().into() },
            comment: String::new(),
            resource_group_id: b.resource_group(),
            server_side_encryption_rule: xml::EncryptionByDefault::of(b.encryption.as_ref()),
            versioning: b.versioning.map(|v| v.as_str().to_string()),
        },
    };
    Ok(Reply::xml(to_xml("BucketInfo", &info)))
}

pub async fn get_bucket_location(cx: Ctx, _body: Body) -> OssResult<Reply> {
    let b = cx.call(|oss, call| oss.bucket(call)).await?;
    Ok(Reply::xml(to_xml("LocationConstraint", &xml::LocationConstraint { value: b.location() })))
}
