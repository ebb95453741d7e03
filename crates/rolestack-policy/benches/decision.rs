//! One authorization decision against five realistic policies (what a RAM user with a few
//! attached policies costs per request), plus parsing one policy. Kept short: small samples
//! and measurement windows so the whole bench runs in well under 30 seconds.

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use rolestack_policy::{evaluate, Context, Policy, Request};

const OSS_READ_ONLY: &str = r#"{"Statement": [{"Action": ["oss:Get*", "oss:List*"], "Effect": "Allow", "Resource": "*"}], "Version": "1"}"#;
const ECS_FULL: &str = r#"{"Version": "1", "Statement": [{"Action": "ecs:*", "Effect": "Allow", "Resource": "*"},
    {"Action": ["vpc:Describe*", "vpc:CreateVSwitch"], "Effect": "Allow", "Resource": "*"}]}"#;
const RAM_READ_ONLY: &str = r#"{"Version": "1", "Statement": [{"Action": ["ram:Get*", "ram:List*"], "Effect": "Allow", "Resource": "*"}]}"#;
const GUARD: &str = r#"{"Version": "1", "Statement": [
    {"Sid": "OfficeOnly", "Effect": "Deny", "Action": "*", "Resource": "*",
     "Condition": {"NotIpAddress": {"acs:SourceIp": ["10.0.0.0/8", "192.168.0.0/16", "2001:db8::/32"]}}},
    {"Sid": "HttpsOnly", "Effect": "Deny", "Action": "oss:*", "Resource": "*",
     "Condition": {"Bool": {"acs:SecureTransport": "false"}}},
    {"Sid": "NoProdDeletes", "Effect": "Deny", "Action": ["oss:Delete*", "oss:PutBucket*"], "Resource": "acs:oss:*:*:prod-*"}]}"#;
const PHOTOS: &str = r#"{"Version": "1", "Statement": [
    {"Effect": "Allow", "Action": ["oss:GetObject", "oss:PutObject"],
     "Resource": ["acs:oss:*:*:myphotos/hangzhou/2015/*", "acs:oss:*:*:myphotos/beijing/*"]},
    {"Effect": "Allow", "Action": "oss:ListObjects", "Resource": "acs:oss:*:*:myphotos",
     "Condition": {"StringLike": {"oss:Prefix": ["hangzhou/2015/*", "beijing/*"]},
                   "DateLessThan": {"acs:CurrentTime": "2030-01-01T00:00:00+08:00"}}}]}"#;

fn policies() -> Vec<(&'static str, Policy)> {
    [
        ("AliyunECSFullAccess", ECS_FULL),
        ("AliyunRAMReadOnlyAccess", RAM_READ_ONLY),
        ("photos", PHOTOS),
        ("guard", GUARD),
        ("AliyunOSSReadOnlyAccess", OSS_READ_ONLY),
    ]
    .into_iter()
    .map(|(label, text)| (label, Policy::parse(text).expect("bench policy parses")))
    .collect()
}

fn decision(c: &mut Criterion) {
    let owned = policies();
    let set: Vec<(&str, &Policy)> = owned.iter().map(|(l, p)| (*l, p)).collect();
    let mut ctx = Context::new();
    ctx.set_source_ip("10.1.2.3".parse().unwrap())
        .set_secure_transport(true)
        .set_current_time(time::OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap())
        .insert("oss:Prefix", "hangzhou/2015/");

    // Every Deny is checked and fails; allowed by the last policy.
    let get = Request::new("oss:GetObject", "acs:oss:*:1234567890123456:prod-logs/2024/01/app.log", &ctx);
    assert!(evaluate(&set, &get).is_allowed());
    c.bench_function("decision/allow oss:GetObject, 5 policies", |b| b.iter(|| evaluate(black_box(&set), black_box(&get))));

    // Conditions evaluated (StringLike + DateLessThan) before the allow.
    let list = Request::new("oss:ListObjects", "acs:oss:*:1234567890123456:myphotos", &ctx);
    assert!(evaluate(&set, &list).is_allowed());
    c.bench_function("decision/allow oss:ListObjects with conditions, 5 policies", |b| {
        b.iter(|| evaluate(black_box(&set), black_box(&list)))
    });

    // Nothing matches: every statement is looked at.
    let put = Request::new("oss:PutObject", "acs:oss:*:1234567890123456:other/key", &ctx);
    assert!(!evaluate(&set, &put).is_allowed());
    c.bench_function("decision/implicit deny, 5 policies", |b| b.iter(|| evaluate(black_box(&set), black_box(&put))));

    let delete = Request::new("oss:DeleteObject", "acs:oss:*:1234567890123456:prod-logs/x", &ctx);
    assert!(evaluate(&set, &delete).is_explicit_deny());
    c.bench_function("decision/explicit deny, 5 policies", |b| b.iter(|| evaluate(black_box(&set), black_box(&delete))));

    c.bench_function("parse/guard policy", |b| b.iter(|| Policy::parse(black_box(GUARD))));
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(30)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(1));
    targets = decision
}
criterion_main!(benches);
