//! The same authorization decisions in rolestack's RAM policy engine and in Cedar (the Rust policy
//! engine of the OOPSLA 2024 paper, our yardstick): five policies of the same shape — two service-wide
//! read grants, a service-wide full grant, a bucket/prefix grant with conditions, and a guard of three
//! Denies (source network, HTTPS, production deletes) — and three requests: an allow that must check
//! every Deny, an explicit deny, an implicit deny. Cedar has no action/resource wildcards, so its
//! policies match the action and resource strings with `like` over the request context, which is the
//! closest equivalent. `benches/run.sh` prints rolestack/Cedar ratios from the medians.

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};

const ACCOUNT_RESOURCE: &str = "acs:oss:*:1234567890123456:";

mod ram {
    pub const POLICIES: &[(&str, &str)] = &[
        ("AliyunECSFullAccess", r#"{"Version":"1","Statement":[{"Action":"ecs:*","Effect":"Allow","Resource":"*"},{"Action":["vpc:Describe*","vpc:CreateVSwitch"],"Effect":"Allow","Resource":"*"}]}"#),
        ("AliyunRAMReadOnlyAccess", r#"{"Version":"1","Statement":[{"Action":["ram:Get*","ram:List*"],"Effect":"Allow","Resource":"*"}]}"#),
        ("photos", r#"{"Version":"1","Statement":[{"Effect":"Allow","Action":["oss:GetObject","oss:PutObject"],"Resource":["acs:oss:*:*:myphotos/hangzhou/2015/*","acs:oss:*:*:myphotos/beijing/*"]},{"Effect":"Allow","Action":"oss:ListObjects","Resource":"acs:oss:*:*:myphotos","Condition":{"StringLike":{"oss:Prefix":["hangzhou/2015/*","beijing/*"]},"NumericLessThan":{"oss:Epoch":"1893427200"}}}]}"#),
        ("guard", r#"{"Version":"1","Statement":[{"Sid":"OfficeOnly","Effect":"Deny","Action":"*","Resource":"*","Condition":{"NotIpAddress":{"acs:SourceIp":["10.0.0.0/8","192.168.0.0/16"]}}},{"Sid":"HttpsOnly","Effect":"Deny","Action":"oss:*","Resource":"*","Condition":{"Bool":{"acs:SecureTransport":"false"}}},{"Sid":"NoProdDeletes","Effect":"Deny","Action":["oss:Delete*","oss:PutBucket*"],"Resource":"acs:oss:*:*:prod-*"}]}"#),
        ("AliyunOSSReadOnlyAccess", r#"{"Version":"1","Statement":[{"Action":["oss:Get*","oss:List*"],"Effect":"Allow","Resource":"*"}]}"#),
    ];
}

const CEDAR: &str = r#"
permit(principal, action, resource) when { context.action like "ecs:*" || context.action like "vpc:Describe*" || context.action == "vpc:CreateVSwitch" };
permit(principal, action, resource) when { context.action like "ram:Get*" || context.action like "ram:List*" };
permit(principal, action, resource) when { (context.action == "oss:GetObject" || context.action == "oss:PutObject") && (context.resource like "acs:oss:*:*:myphotos/hangzhou/2015/*" || context.resource like "acs:oss:*:*:myphotos/beijing/*") };
permit(principal, action, resource) when { context.action == "oss:ListObjects" && context.resource like "acs:oss:*:*:myphotos" && (context.prefix like "hangzhou/2015/*" || context.prefix like "beijing/*") && context.epoch < 1893427200 };
forbid(principal, action, resource) when { !(context.source_ip.isInRange(ip("10.0.0.0/8")) || context.source_ip.isInRange(ip("192.168.0.0/16"))) };
forbid(principal, action, resource) when { context.action like "oss:*" && context.secure == false };
forbid(principal, action, resource) when { (context.action like "oss:Delete*" || context.action like "oss:PutBucket*") && context.resource like "acs:oss:*:*:prod-*" };
permit(principal, action, resource) when { context.action like "oss:Get*" || context.action like "oss:List*" };
"#;

/// (name, action, resource relative to the account, expected allowed)
const CASES: &[(&str, &str, &str, bool)] = &[
    ("allow after every deny", "oss:GetObject", "prod-logs/2024/01/app.log", true),
    ("explicit deny", "oss:DeleteObject", "prod-logs/2024/01/app.log", false),
    ("implicit deny", "sts:AssumeRole", "role/admin", false),
];

fn bench(c: &mut Criterion) {
    // rolestack
    let owned: Vec<(&str, rolestack_policy::Policy)> =
        ram::POLICIES.iter().map(|(l, t)| (*l, rolestack_policy::Policy::parse(t).expect("policy parses"))).collect();
    let set: Vec<(&str, &rolestack_policy::Policy)> = owned.iter().map(|(l, p)| (*l, p)).collect();
    let mut ctx = rolestack_policy::Context::new();
    ctx.set_source_ip("10.1.2.3".parse().unwrap()).set_secure_transport(true).insert("oss:Prefix", "hangzhou/2015/");
    ctx.insert("oss:Epoch", "1700000000");

    // Cedar
    let policies: cedar_policy::PolicySet = CEDAR.parse().expect("cedar policies parse");
    let authorizer = cedar_policy::Authorizer::new();
    let entities = cedar_policy::Entities::empty();
    let principal: cedar_policy::EntityUid = r#"User::"alice""#.parse().unwrap();
    let action: cedar_policy::EntityUid = r#"Action::"call""#.parse().unwrap();
    let resource: cedar_policy::EntityUid = r#"Resource::"r""#.parse().unwrap();

    let mut group = c.benchmark_group("decision");
    group.sample_size(60).warm_up_time(Duration::from_millis(500)).measurement_time(Duration::from_secs(2));
    for (name, act, res, allowed) in CASES {
        let arn = format!("{ACCOUNT_RESOURCE}{res}");
        let req = rolestack_policy::Request::new(act, &arn, &ctx);
        assert_eq!(rolestack_policy::evaluate(&set, &req).is_allowed(), *allowed, "rolestack {name}");
        group.bench_function(format!("rolestack/{name}"), |b| b.iter(|| rolestack_policy::evaluate(black_box(&set), black_box(&req))));

        let context = cedar_policy::Context::from_json_value(
            serde_json_value(act, &arn),
            None,
        )
        .expect("cedar context");
        let creq = cedar_policy::Request::new(principal.clone(), action.clone(), resource.clone(), context, None).expect("cedar request");
        let decided = authorizer.is_authorized(&creq, &policies, &entities).decision() == cedar_policy::Decision::Allow;
        assert_eq!(decided, *allowed, "cedar {name}");
        group.bench_function(format!("cedar/{name}"), |b| b.iter(|| authorizer.is_authorized(black_box(&creq), black_box(&policies), black_box(&entities))));
    }
    group.finish();
}

/// The Cedar request context carrying what RAM reads from the request.
fn serde_json_value(action: &str, resource: &str) -> serde_json::Value {
    serde_json::json!({
        "action": action,
        "resource": resource,
        "prefix": "hangzhou/2015/",
        "epoch": 1_700_000_000_i64,
        "secure": true,
        "source_ip": { "__extn": { "fn": "ip", "arg": "10.1.2.3" } },
    })
}

criterion_group!(benches, bench);
criterion_main!(benches);
