//! `?lifecycle` on a bucket: Put/Get/DeleteBucketLifecycle, between OSS's XML and the core's
//! rules (`rolestack_core::oss::lifecycle`).

use axum::body::Body;
use rolestack_core::clock::parse_date;
use rolestack_core::oss::lifecycle::{Filter, NoncurrentTransition, Not, Rule, Transition, When};
use rolestack_core::oss::{OssError, OssResult};

use super::super::respond::Reply;
use super::super::xml::{self, iso8601, to_xml};
use super::{read_document, Ctx};

/// `2024-01-01T00:00:00.000Z` (or without the milliseconds) as Unix seconds.
fn date(value: &str) -> OssResult<i64> {
    let trimmed = value.trim().replace(".000Z", "Z");
    parse_date(&trimmed)
        .map(|t| t.unix_timestamp())
        .ok_or_else(|| OssError::InvalidArgument(format!("{value:?} is not an ISO 8601 date (2024-01-01T00:00:00.000Z).")))
}

fn when(w: &xml::LifecycleWhen) -> OssResult<When> {
    match (w.days, &w.created_before_date, &w.date) {
        (Some(d), None, None) => Ok(When::Days(d)),
        (None, Some(t), None) => Ok(When::Before(date(t)?)),
        (None, None, Some(t)) => Ok(When::Date(date(t)?)),
        _ => Err(OssError::MalformedXml("a lifecycle action has exactly one of Days, CreatedBeforeDate and Date".into())),
    }
}

fn when_xml(w: When) -> xml::LifecycleWhen {
    match w {
        When::Days(d) => xml::LifecycleWhen { days: Some(d), ..Default::default() },
        When::Before(t) => xml::LifecycleWhen { created_before_date: Some(iso8601(t)), ..Default::default() },
        When::Date(t) => xml::LifecycleWhen { date: Some(iso8601(t)), ..Default::default() },
    }
}

fn filter(f: xml::LifecycleFilter) -> Filter {
    Filter {
        not: f.not.into_iter().map(|n| Not { prefix: n.prefix, tag: n.tag.map(|t| (t.key, t.value)) }).collect(),
        object_size_greater_than: f.object_size_greater_than,
        object_size_less_than: f.object_size_less_than,
    }
}

fn filter_xml(f: &Filter) -> Option<xml::LifecycleFilter> {
    (*f != Filter::default()).then(|| xml::LifecycleFilter {
        not: f
            .not
            .iter()
            .map(|n| xml::LifecycleNot {
                prefix: n.prefix.clone(),
                tag: n.tag.as_ref().map(|(k, v)| xml::Tag { key: k.clone(), value: v.clone() }),
            })
            .collect(),
        object_size_greater_than: f.object_size_greater_than,
        object_size_less_than: f.object_size_less_than,
    })
}

fn rule(r: xml::LifecycleRule) -> OssResult<Rule> {
    let enabled = match r.status.as_str() {
        "Enabled" => true,
        "Disabled" => false,
        other => return Err(OssError::MalformedXml(format!("Status {other:?} is not Enabled or Disabled"))),
    };
    let transitions = r
        .transition
        .iter()
        .map(|t| {
            let w = xml::LifecycleWhen { days: t.days, created_before_date: t.created_before_date.clone(), ..Default::default() };
            Ok(Transition { when: when(&w)?, storage_class: t.storage_class.clone() })
        })
        .collect::<OssResult<_>>()?;
    // `<Expiration>` holds a time, or `ExpiredObjectDeleteMarker` (versioned buckets).
    let (expiration, expired_object_delete_marker) = match &r.expiration {
        Some(xml::LifecycleWhen { expired_object_delete_marker: Some(flag), days, created_before_date, date }) => {
            if days.is_some() || created_before_date.is_some() || date.is_some() {
                return Err(OssError::InvalidArgument("ExpiredObjectDeleteMarker cannot be combined with Days or a date.".into()));
            }
            match flag.trim().to_ascii_lowercase().as_str() {
                "true" => (None, true),
                "false" => (None, false),
                other => return Err(OssError::MalformedXml(format!("ExpiredObjectDeleteMarker {other:?} is not true or false"))),
            }
        }
        other => (other.as_ref().map(when).transpose()?, false),
    };
    Ok(Rule {
        id: r.id,
        prefix: r.prefix,
        enabled,
        tags: r.tag.into_iter().map(|t| (t.key, t.value)).collect(),
        expiration,
        expired_object_delete_marker,
        transitions,
        abort_multipart_upload: r.abort_multipart_upload.as_ref().map(when).transpose()?,
        noncurrent_expiration_days: r.noncurrent_version_expiration.map(|n| n.noncurrent_days),
        noncurrent_transitions: r
            .noncurrent_version_transition
            .into_iter()
            .map(|t| NoncurrentTransition { days: t.noncurrent_days, storage_class: t.storage_class })
            .collect(),
        filter: r.filter.map(filter).unwrap_or_default(),
    })
}

fn rule_xml(r: &Rule) -> xml::LifecycleRule {
    xml::LifecycleRule {
        id: r.id.clone(),
        prefix: r.prefix.clone(),
        status: if r.enabled { "Enabled" } else { "Disabled" }.into(),
        expiration: match (r.expiration, r.expired_object_delete_marker) {
            (_, true) => Some(xml::LifecycleWhen { expired_object_delete_marker: Some("true".into()), ..Default::default() }),
            (w, false) => w.map(when_xml),
        },
        transition: r
            .transitions
            .iter()
            .map(|t| {
                let w = when_xml(t.when);
                xml::LifecycleTransition {
                    days: w.days,
                    created_before_date: w.created_before_date,
                    storage_class: t.storage_class.clone(),
                }
            })
            .collect(),
        abort_multipart_upload: r.abort_multipart_upload.map(when_xml),
        tag: r.tags.iter().map(|(k, v)| xml::Tag { key: k.clone(), value: v.clone() }).collect(),
        noncurrent_version_expiration: r.noncurrent_expiration_days.map(|d| xml::NoncurrentDays { noncurrent_days: d }),
        filter: filter_xml(&r.filter),
        noncurrent_version_transition: r
            .noncurrent_transitions
            .iter()
            .map(|t| xml::NoncurrentTransition { noncurrent_days: t.days, storage_class: t.storage_class.clone() })
            .collect(),
    }
}

pub async fn put_bucket_lifecycle(cx: Ctx, body: Body) -> OssResult<Reply> {
    let doc: xml::LifecycleConfiguration = xml::parse(&read_document(&cx.req, body).await?)?;
    let rules = doc.rule.into_iter().map(rule).collect::<OssResult<Vec<_>>>()?;
    cx.call(move |oss, call| oss.put_bucket_lifecycle(call, rules)).await?;
    Ok(Reply::empty(200))
}

pub async fn get_bucket_lifecycle(cx: Ctx, _body: Body) -> OssResult<Reply> {
    let rules = cx.call(|oss, call| oss.get_bucket_lifecycle(call)).await?;
    let doc = xml::LifecycleConfiguration { rule: rules.iter().map(rule_xml).collect() };
    Ok(Reply::xml(to_xml("LifecycleConfiguration", &doc)))
}

pub async fn delete_bucket_lifecycle(cx: Ctx, _body: Body) -> OssResult<Reply> {
    cx.call(|oss, call| oss.delete_bucket_lifecycle(call)).await?;
    Ok(Reply::empty(204))
}
