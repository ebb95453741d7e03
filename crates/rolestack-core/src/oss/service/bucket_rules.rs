//! The bucket's rules for browsers: CORS (Put/Get/DeleteBucketCors) and hotlink protection
//! (Put/GetBucketReferer), plus the unauthorized read the preflight, the CORS headers of every
//! answer and the referer check need (they apply before, or regardless of, authorization).

use super::super::cors::CorsConfiguration;
use super::super::error::{OssError, OssResult};
use super::super::model::Bucket;
use super::super::referer::RefererConfiguration;
use super::{Call, Oss};

/// A bucket's browser rules, read without authorization.
#[derive(Debug, Clone, Default)]
pub struct BucketRules {
    pub cors: Option<CorsConfiguration>,
    pub referer: Option<RefererConfiguration>,
}

impl Oss {
    pub fn put_bucket_cors(&self, call: Call<'_>, cors: CorsConfiguration) -> OssResult<()> {
        cors.validate()?;
        self.update_bucket(call, |b| {
            b.cors = Some(cors.clone());
            Ok(())
        })
    }

    pub fn get_bucket_cors(&self, call: Call<'_>) -> OssResult<CorsConfiguration> {
        self.bucket(call)?.cors.ok_or(OssError::NoSuchCorsConfiguration)
    }

    pub fn delete_bucket_cors(&self, call: Call<'_>) -> OssResult<()> {
        self.update_bucket(call, |b| {
            b.cors = None;
            Ok(())
        })
    }

    pub fn put_bucket_referer(&self, call: Call<'_>, referer: RefererConfiguration) -> OssResult<()> {
        referer.validate()?;
        self.update_bucket(call, |b| {
            b.referer = Some(referer.clone());
            Ok(())
        })
    }

    /// The configuration with OSS's defaults filled in (for a bucket never configured: all
    /// defaults).
    pub fn get_bucket_referer(&self, call: Call<'_>) -> OssResult<RefererConfiguration> {
        let mut referer = self.bucket(call)?.referer.unwrap_or_default();
        referer.allow_truncate_query_string.get_or_insert(true);
        referer.truncate_path.get_or_insert(false);
        Ok(referer)
    }

    /// The CORS and referer rules of `bucket` (`None` when there is no such bucket). Not
    /// authorized: the preflight is anonymous by definition, and the rules only ever restrict.
    pub fn bucket_rules(&self, bucket: &str) -> OssResult<Option<BucketRules>> {
        let at = self.bucket_version();
        let rules = |b: &Bucket| BucketRules { cors: b.cors.clone(), referer: b.referer.clone() };
        if let Some(b) = self.caches.oss_buckets.get(bucket, at) {
            return Ok(Some(rules(&b)));
        }
        let mut tx = self.read_tx()?;
        match self.read_bucket(&mut *tx, at, bucket) {
            Ok(b) => Ok(Some(rules(&b))),
            Err(OssError::NoSuchBucket { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }
}
