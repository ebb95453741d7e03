//! OSS XML documents, as serde types for quick-xml: the responses (element names and order as
//! oss2 `xml_utils.py` and alibabacloud-oss-v2 parse them; every element oss2 requires is always
//! present) and the request bodies (`Delete`, `CompleteMultipartUpload`,
//! `CreateBucketConfiguration`, `AccessControlPolicy`).

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// The XML declaration every body starts with.
const DECLARATION: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";

/// Serializes `value` as the root element `root`.
pub fn to_xml<T: Serialize>(root: &str, value: &T) -> String {
    let mut out = String::from(DECLARATION);
    // Serializing plain structs of strings and numbers cannot fail.
    out.push_str(&quick_xml::se::to_string_with_root(root, value).expect("OSS response types serialize"));
    out
}

/// ISO 8601 with the literal `.000Z` that oss2 requires (`2024-01-01T00:00:00.000Z`).
pub fn iso8601(unix: i64) -> String {
    let t = OffsetDateTime::from_unix_timestamp(unix).unwrap_or(OffsetDateTime::UNIX_EPOCH);
    let seconds = rolestack_core::clock::format_date(t);
    format!("{}.000Z", seconds.trim_end_matches('Z'))
}

/// `"<etag>"`.
pub fn quoted(etag: &str) -> String {
    format!("\"{etag}\"")
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Owner {
    #[serde(rename = "ID")]
    pub id: String,
    pub display_name: String,
}

impl Owner {
    pub fn of(account: &str) -> Self {
        Owner { id: account.to_string(), display_name: account.to_string() }
    }
}

// -- service / bucket ---------------------------------------------------------------------

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListAllMyBucketsResult {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prefix: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub marker: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_keys: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_truncated: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_marker: Option<String>,
    pub owner: Owner,
    pub buckets: Buckets,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Buckets {
    pub bucket: Vec<BucketEntry>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct BucketEntry {
    pub name: String,
    pub location: String,
    pub creation_date: String,
    pub extranet_endpoint: String,
    pub intranet_endpoint: String,
    pub storage_class: String,
    pub region: String,
    pub resource_group_id: String,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct BucketInfo {
    pub bucket: BucketDetail,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct BucketDetail {
    pub name: String,
    pub creation_date: String,
    pub storage_class: String,
    pub extranet_endpoint: String,
    pub intranet_endpoint: String,
    pub location: String,
    pub region: String,
    pub data_redundancy_type: String,
    pub owner: Owner,
    pub access_control_list: AccessControlList,
    pub comment: String,
    pub resource_group_id: String,
    pub server_side_encryption_rule: EncryptionByDefault,
    /// `Enabled` / `Suspended`; absent for a bucket never versioned.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub versioning: Option<String>,
}

/// `ApplyServerSideEncryptionByDefault` (PutBucketEncryption's body, GetBucketEncryption's
/// answer) and GetBucketInfo's `ServerSideEncryptionRule` (`None` for no default).
#[derive(Serialize, Deserialize, Debug, Default)]
#[serde(rename_all = "PascalCase", default)]
pub struct EncryptionByDefault {
    #[serde(rename = "SSEAlgorithm")]
    pub sse_algorithm: String,
    #[serde(rename = "KMSMasterKeyID", skip_serializing_if = "Option::is_none")]
    pub kms_master_key_id: Option<String>,
    #[serde(rename = "KMSDataEncryption", skip_serializing_if = "Option::is_none")]
    pub kms_data_encryption: Option<String>,
}

impl EncryptionByDefault {
    pub fn of(e: Option<&rolestack_core::oss::bucket_config::Encryption>) -> Self {
        match e {
            None => EncryptionByDefault { sse_algorithm: "None".into(), ..Default::default() },
            Some(e) => EncryptionByDefault {
                sse_algorithm: e.algorithm.clone(),
                kms_master_key_id: e.kms_master_key_id.clone(),
                kms_data_encryption: e.kms_data_encryption.clone(),
            },
        }
    }
}

/// `<ServerSideEncryptionRule>` (PutBucketEncryption, GetBucketEncryption).
#[derive(Serialize, Deserialize, Debug, Default)]
#[serde(rename_all = "PascalCase")]
pub struct ServerSideEncryptionRule {
    #[serde(rename = "ApplyServerSideEncryptionByDefault")]
    pub apply: EncryptionByDefault,
}

/// `<BucketLoggingStatus>` (PutBucketLogging, GetBucketLogging).
#[derive(Serialize, Deserialize, Debug, Default)]
#[serde(rename_all = "PascalCase", default)]
pub struct BucketLoggingStatus {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub logging_enabled: Option<LoggingEnabled>,
}

#[derive(Serialize, Deserialize, Debug, Default)]
#[serde(rename_all = "PascalCase", default)]
pub struct LoggingEnabled {
    pub target_bucket: String,
    pub target_prefix: String,
}

/// `<BucketUserQos>` (Put/GetBucketStorageCapacity).
#[derive(Serialize, Deserialize, Debug)]
#[serde(rename_all = "PascalCase")]
pub struct BucketUserQos {
    pub storage_capacity: i64,
}

/// `<BucketResourceGroupConfiguration>` (Put/GetBucketResourceGroup).
#[derive(Serialize, Deserialize, Debug)]
#[serde(rename_all = "PascalCase")]
pub struct BucketResourceGroupConfiguration {
    pub resource_group_id: String,
}

/// GetBucketStat's `<BucketStat>`, in OSS's element order.
#[derive(Serialize, Debug, Default)]
#[serde(rename_all = "PascalCase")]
pub struct BucketStat {
    pub storage: u64,
    pub object_count: u64,
    pub multipart_upload_count: u64,
    pub live_channel_count: u64,
    pub last_modified_time: i64,
    pub standard_storage: u64,
    pub standard_object_count: u64,
    pub infrequent_access_storage: u64,
    pub infrequent_access_real_storage: u64,
    pub infrequent_access_object_count: u64,
    pub archive_storage: u64,
    pub archive_real_storage: u64,
    pub archive_object_count: u64,
    pub cold_archive_storage: u64,
    pub cold_archive_real_storage: u64,
    pub cold_archive_object_count: u64,
    pub deep_cold_archive_storage: u64,
    pub deep_cold_archive_real_storage: u64,
    pub deep_cold_archive_object_count: u64,
    pub multipart_part_count: u64,
    pub delete_marker_count: u64,
}

#[derive(Serialize, Deserialize, Debug)]
#[serde(rename_all = "PascalCase")]
pub struct AccessControlList {
    pub grant: String,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AccessControlPolicy {
    pub owner: Owner,
    pub access_control_list: AccessControlList,
}

#[derive(Serialize)]
pub struct LocationConstraint {
    #[serde(rename = "$text")]
    pub value: String,
}

// -- listing ---------------------------------------------------------------------------------

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListBucketResult {
    pub name: String,
    pub prefix: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub marker: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub continuation_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_after: Option<String>,
    pub max_keys: usize,
    pub delimiter: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encoding_type: Option<String>,
    pub is_truncated: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_marker: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_continuation_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_count: Option<usize>,
    #[serde(default)]
    pub contents: Vec<Contents>,
    #[serde(default)]
    pub common_prefixes: Vec<CommonPrefix>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Contents {
    pub key: String,
    pub last_modified: String,
    #[serde(rename = "ETag")]
    pub etag: String,
    #[serde(rename = "Type")]
    pub object_type: String,
    pub size: u64,
    pub storage_class: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner: Option<Owner>,
    /// The `x-oss-restore` value of an archived object being or having been restored.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub restore_info: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct CommonPrefix {
    pub prefix: String,
}

// -- objects -----------------------------------------------------------------------------------

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct CopyObjectResult {
    #[serde(rename = "ETag")]
    pub etag: String,
    pub last_modified: String,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DeleteResult {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encoding_type: Option<String>,
    #[serde(default)]
    pub deleted: Vec<Deleted>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Deleted {
    pub key: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delete_marker: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delete_marker_version_id: Option<String>,
}

/// The `Delete` request body of DeleteMultipleObjects.
#[derive(Deserialize, Debug)]
#[serde(rename_all = "PascalCase")]
pub struct Delete {
    #[serde(default)]
    pub quiet: Option<String>,
    #[serde(rename = "Object", default)]
    pub objects: Vec<DeleteObject>,
}

#[derive(Deserialize, Debug)]
#[serde(rename_all = "PascalCase")]
pub struct DeleteObject {
    /// Required: missing or empty, the request is refused (see `handlers::object::delete_objects`).
    #[serde(default)]
    pub key: Option<String>,
    #[serde(default)]
    pub version_id: Option<String>,
}

// -- versioning --------------------------------------------------------------------------------

/// PutBucketVersioning's body and GetBucketVersioning's answer.
#[derive(Serialize, Deserialize, Debug, Default)]
#[serde(rename_all = "PascalCase", default)]
pub struct VersioningConfiguration {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
}

/// ListObjectVersions' answer: versions and delete markers in one sequence, in key order and
/// newest first within a key.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListVersionsResult {
    pub name: String,
    pub prefix: String,
    pub key_marker: String,
    pub version_id_marker: String,
    pub max_keys: usize,
    pub delimiter: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encoding_type: Option<String>,
    pub is_truncated: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_key_marker: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_version_id_marker: Option<String>,
    #[serde(rename = "$value")]
    pub entries: Vec<VersionEntry>,
    #[serde(rename = "CommonPrefixes")]
    pub common_prefixes: Vec<CommonPrefix>,
}

/// A `<Version>` or a `<DeleteMarker>`.
#[derive(Serialize)]
pub enum VersionEntry {
    Version(ListedVersion),
    DeleteMarker(ListedDeleteMarker),
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListedVersion {
    pub key: String,
    pub version_id: String,
    pub is_latest: bool,
    pub last_modified: String,
    #[serde(rename = "ETag")]
    pub etag: String,
    #[serde(rename = "Type")]
    pub object_type: String,
    pub size: u64,
    pub storage_class: String,
    pub owner: Owner,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub restore_info: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListedDeleteMarker {
    pub key: String,
    pub version_id: String,
    pub is_latest: bool,
    pub last_modified: String,
    pub owner: Owner,
}

/// PutBucket's optional body.
#[derive(Deserialize, Debug, Default)]
#[serde(rename_all = "PascalCase", default)]
pub struct CreateBucketConfiguration {
    pub storage_class: Option<String>,
    /// `oss-cn-shanghai` (or `cn-shanghai`): the region to make the bucket in.
    pub location_constraint: Option<String>,
}

/// PutBucketAcl / PutObjectAcl body form (the SDKs use the headers instead).
#[derive(Deserialize, Debug)]
#[serde(rename_all = "PascalCase")]
pub struct AccessControlPolicyBody {
    pub access_control_list: AccessControlList,
}

// -- multipart -----------------------------------------------------------------------------------

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct InitiateMultipartUploadResult {
    pub bucket: String,
    pub key: String,
    pub upload_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encoding_type: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct CompleteMultipartUploadResult {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encoding_type: Option<String>,
    pub location: String,
    pub bucket: String,
    pub key: String,
    #[serde(rename = "ETag")]
    pub etag: String,
}

/// The CompleteMultipartUpload request body.
#[derive(Deserialize, Debug)]
#[serde(rename_all = "PascalCase")]
pub struct CompleteMultipartUpload {
    #[serde(rename = "Part", default)]
    pub parts: Vec<CompletePart>,
}

#[derive(Deserialize, Debug)]
#[serde(rename_all = "PascalCase")]
pub struct CompletePart {
    #[serde(rename = "PartNumber")]
    pub number: u32,
    #[serde(rename = "ETag")]
    pub etag: String,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct CopyPartResult {
    pub last_modified: String,
    #[serde(rename = "ETag")]
    pub etag: String,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListPartsResult {
    pub bucket: String,
    pub key: String,
    pub upload_id: String,
    pub part_number_marker: u32,
    pub next_part_number_marker: u32,
    pub max_parts: usize,
    pub is_truncated: bool,
    #[serde(default)]
    pub part: Vec<PartEntry>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct PartEntry {
    pub part_number: u32,
    pub last_modified: String,
    #[serde(rename = "ETag")]
    pub etag: String,
    pub hash_crc64ecma: String,
    pub size: u64,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListMultipartUploadsResult {
    pub bucket: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encoding_type: Option<String>,
    pub key_marker: String,
    pub upload_id_marker: String,
    pub next_key_marker: String,
    pub next_upload_id_marker: String,
    pub delimiter: String,
    pub prefix: String,
    pub max_uploads: usize,
    pub is_truncated: bool,
    #[serde(default)]
    pub upload: Vec<UploadEntry>,
    #[serde(default)]
    pub common_prefixes: Vec<CommonPrefix>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct UploadEntry {
    pub key: String,
    pub upload_id: String,
    pub storage_class: String,
    pub initiated: String,
}

/// Parses a request body, mapping failures to `MalformedXML`.
/// `LifecycleConfiguration` (PutBucketLifecycle's body, GetBucketLifecycle's answer).
#[derive(Serialize, Deserialize, Debug, Default)]
#[serde(rename_all = "PascalCase", default)]
pub struct LifecycleConfiguration {
    pub rule: Vec<LifecycleRule>,
}

#[derive(Serialize, Deserialize, Debug, Default)]
#[serde(rename_all = "PascalCase", default)]
pub struct LifecycleRule {
    #[serde(rename = "ID")]
    pub id: String,
    pub prefix: String,
    pub status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expiration: Option<LifecycleWhen>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub transition: Vec<LifecycleTransition>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub abort_multipart_upload: Option<LifecycleWhen>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tag: Vec<Tag>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub noncurrent_version_expiration: Option<NoncurrentDays>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub noncurrent_version_transition: Vec<NoncurrentTransition>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub filter: Option<LifecycleFilter>,
}

/// A lifecycle rule's `<Filter>`.
#[derive(Serialize, Deserialize, Debug, Default)]
#[serde(rename_all = "PascalCase", default)]
pub struct LifecycleFilter {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub not: Vec<LifecycleNot>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub object_size_greater_than: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub object_size_less_than: Option<i64>,
}

/// `<Filter><Not>`.
#[derive(Serialize, Deserialize, Debug, Default)]
#[serde(rename_all = "PascalCase", default)]
pub struct LifecycleNot {
    pub prefix: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tag: Option<Tag>,
}

#[derive(Serialize, Deserialize, Debug, Default)]
#[serde(rename_all = "PascalCase", default)]
pub struct LifecycleWhen {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub days: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_before_date: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub date: Option<String>,
    /// Expiration only: `true` / `false` (oss2 writes `True`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expired_object_delete_marker: Option<String>,
}

#[derive(Serialize, Deserialize, Debug, Default)]
#[serde(rename_all = "PascalCase", default)]
pub struct LifecycleTransition {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub days: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_before_date: Option<String>,
    pub storage_class: String,
}

#[derive(Serialize, Deserialize, Debug, Default)]
#[serde(rename_all = "PascalCase", default)]
pub struct NoncurrentDays {
    pub noncurrent_days: u32,
}

#[derive(Serialize, Deserialize, Debug, Default)]
#[serde(rename_all = "PascalCase", default)]
pub struct NoncurrentTransition {
    pub noncurrent_days: u32,
    pub storage_class: String,
}

/// RestoreObject's optional body.
#[derive(Deserialize, Debug, Default)]
#[serde(rename_all = "PascalCase", default)]
pub struct RestoreRequest {
    pub days: Option<i64>,
    pub job_parameters: Option<JobParameters>,
}

#[derive(Deserialize, Debug, Default)]
#[serde(rename_all = "PascalCase", default)]
pub struct JobParameters {
    pub tier: Option<String>,
}

/// `<Tagging><TagSet><Tag><Key/><Value/></Tag>...</TagSet></Tagging>` (object and bucket tags,
/// request and response).
#[derive(Serialize, Deserialize, Debug, Default)]
#[serde(rename_all = "PascalCase", default)]
pub struct Tagging {
    pub tag_set: TagSet,
}

#[derive(Serialize, Deserialize, Debug, Default)]
#[serde(rename_all = "PascalCase", default)]
pub struct TagSet {
    pub tag: Vec<Tag>,
}

#[derive(Serialize, Deserialize, Debug)]
#[serde(rename_all = "PascalCase")]
pub struct Tag {
    #[serde(default)]
    pub key: String,
    #[serde(default)]
    pub value: String,
}

impl Tagging {
    pub fn of(tags: &[(String, String)]) -> Self {
        Tagging { tag_set: TagSet { tag: tags.iter().map(|(k, v)| Tag { key: k.clone(), value: v.clone() }).collect() } }
    }

    pub fn into_tags(self) -> Vec<(String, String)> {
        self.tag_set.tag.into_iter().map(|t| (t.key, t.value)).collect()
    }
}

pub fn parse<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, rolestack_core::oss::OssError> {
    let text = std::str::from_utf8(body).map_err(|_| rolestack_core::oss::OssError::MalformedXml("the body is not UTF-8".into()))?;
    quick_xml::de::from_str(text).map_err(|e| rolestack_core::oss::OssError::MalformedXml(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_result_shape() {
        let r = ListBucketResult {
            name: "b".into(),
            prefix: String::new(),
            marker: Some(String::new()),
            continuation_token: None,
            start_after: None,
            max_keys: 100,
            delimiter: "/".into(),
            encoding_type: Some("url".into()),
            is_truncated: false,
            next_marker: None,
            next_continuation_token: None,
            key_count: None,
            contents: vec![Contents {
                key: "a%2Fb".into(),
                last_modified: iso8601(0),
                etag: quoted("AB"),
                object_type: "Normal".into(),
                size: 5,
                storage_class: "Standard".into(),
                owner: Some(Owner::of("1")),
                restore_info: None,
            }],
            common_prefixes: vec![CommonPrefix { prefix: "d/".into() }],
        };
        let xml = to_xml("ListBucketResult", &r);
        assert!(xml.contains("<Name>b</Name><Prefix/><Marker/><MaxKeys>100</MaxKeys><Delimiter>/</Delimiter><EncodingType>url</EncodingType><IsTruncated>false</IsTruncated><Contents><Key>a%2Fb</Key><LastModified>1970-01-01T00:00:00.000Z</LastModified><ETag>\"AB\"</ETag><Type>Normal</Type><Size>5</Size>"), "{xml}");
        assert!(xml.contains("<CommonPrefixes><Prefix>d/</Prefix></CommonPrefixes>"), "{xml}");
    }

    #[test]
    fn version_listing_shape() {
        let owner = || Owner::of("1");
        let r = ListVersionsResult {
            name: "b".into(),
            prefix: String::new(),
            key_marker: String::new(),
            version_id_marker: String::new(),
            max_keys: 2,
            delimiter: String::new(),
            encoding_type: None,
            is_truncated: true,
            next_key_marker: Some("k".into()),
            next_version_id_marker: Some("v1".into()),
            entries: vec![
                VersionEntry::DeleteMarker(ListedDeleteMarker {
                    key: "k".into(),
                    version_id: "v2".into(),
                    is_latest: true,
                    last_modified: "t".into(),
                    owner: owner(),
                }),
                VersionEntry::Version(ListedVersion {
                    key: "k".into(),
                    version_id: "v1".into(),
                    is_latest: false,
                    last_modified: "t".into(),
                    etag: "\"E\"".into(),
                    object_type: "Normal".into(),
                    size: 1,
                    storage_class: "Standard".into(),
                    owner: owner(),
                    restore_info: None,
                }),
            ],
            common_prefixes: Vec::new(),
        };
        let xml = to_xml("ListVersionsResult", &r);
        let marker = xml.find("<DeleteMarker><Key>k</Key><VersionId>v2</VersionId><IsLatest>true</IsLatest>").unwrap();
        let version = xml.find("<Version><Key>k</Key><VersionId>v1</VersionId><IsLatest>false</IsLatest>").unwrap();
        assert!(marker < version, "{xml}");
        assert!(xml.contains("<NextKeyMarker>k</NextKeyMarker><NextVersionIdMarker>v1</NextVersionIdMarker>"), "{xml}");
        let d: Delete =
            parse(b"<Delete><Object><Key>a</Key><VersionId>CAEQ</VersionId></Object><Object><Key>b</Key></Object></Delete>").unwrap();
        assert_eq!(d.objects[0].version_id.as_deref(), Some("CAEQ"));
        assert!(d.objects[1].version_id.is_none());
    }

    #[test]
    fn parses_request_bodies() {
        let d: Delete =
            parse(b"<Delete><Quiet>true</Quiet><Object><Key>a</Key></Object><Object><Key>b &amp; c</Key></Object></Delete>").unwrap();
        assert_eq!(d.objects.len(), 2);
        assert_eq!(d.objects[1].key.as_deref(), Some("b & c"));
        let c: CompleteMultipartUpload =
            parse(b"<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>\"X\"</ETag></Part></CompleteMultipartUpload>").unwrap();
        assert_eq!(c.parts[0].number, 1);
        assert!(parse::<Delete>(b"<Delete><Object>").is_err());
        assert_eq!(
            to_xml("LocationConstraint", &LocationConstraint { value: "oss-cn-hangzhou".into() }).lines().last().unwrap(),
            "<LocationConstraint>oss-cn-hangzhou</LocationConstraint>"
        );
    }
}
