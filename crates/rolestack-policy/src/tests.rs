//! Document-level tests: the seed documents from the Alibaba Cloud docs, every parse error class,
//! and evaluation of whole policies and trust policies.

// The seed documents, verbatim (including their mistakes), from shared/seeds.
/// Seed 000: instance RAM role trust policy.
const SEED_000_TRUST: &str = r#"{
     "Statement": [
     {
         "Action": "sts:AssumeRole",
         "Effect": "Allow",
         "Principal": {
         "Service": [
         "ecs.aliyuncs.com"
         ]
         }
     }
     ],
     "Version": "1"
 }
"#;
/// Seed 000: OSS read-only permission policy.
const SEED_000_PERMISSION: &str = r#"        {
             "Statement": [
                 {
                 "Action": [
                     "oss:Get*",
                     "oss:List*"
                 ],
                 "Effect": "Allow",
                 "Resource": "*"
                 }
             ],
             "Version": "1"
         }
        "#;
/// Seed 000: "authorize a RAM user" sample, with Markdown escapes, a date version and spaces in actions.
const SEED_000_USER_POLICY: &str = r#"    {
            "Version": "2016-10-17",
            "Statement": [
                {
                "Effect": "Allow",
                "Action": [
                    "ecs: \[ECS RAM Action\]",
                    "ecs: CreateInstance",
                    "ecs: AttachInstanceRamRole",
                    "ecs: DetachInstanceRAMRole"
                ],
                "Resource": "*"
                },
                {
            "Effect": "Allow",
            "Action": "ram:PassRole",
            "Resource": "*"
                }
            ]
    }
    "#;
/// Seed 001: trust policy, unindented.
const SEED_001_TRUST: &str = r#"{
"Statement": [
{
"Action": "sts:AssumeRole",
"Effect": "Allow",
"Principal": {
"Service": [
"ecs.aliyuncs.com"
]
}
}
],
"Version": "1"
}"#;
/// Seed 002: a Principal fragment shown in the console guide.
const SEED_002_PRINCIPAL_FRAGMENT: &str = r#"    "Service": [
        "ecs.aliyuncs.com"
    ]
    "#;
/// Seed 003: trust policy with `"Service "` (trailing space).
const SEED_003_TRUST: &str = r#"        {
        "Statement": [
        {
        "Action": "sts:AssumeRole",
        "Effect": "Allow",
        "Principal": {
        "Service ":[
          "ecs.aliyuncs.com"
        ]
        }
        }
        ],
        "Version": "1"
        }
        
        "#;
/// Seed 003: permission policy with `"Resource "` (trailing space).
const SEED_003_PERMISSION: &str = r#"        {
        "Statement": [
        {
        "Action": [
        "oss:Get*",
        "oss:List*"
        ],
        "Effect": "Allow",
        "Resource ":"*"
        }
        ],
        "Version": "1"
        }
        
        "#;
/// Seed 003: PassRole sample that is not even JSON.
const SEED_003_PASSROLE: &str = r#"    {
      "Statement": [
        {
          "ecs: [ECS RAM Action]", 
          "Resource": "*",
          "Effect": "Allow"
        },
    	{
          "Action": "ram:PassRole",
          "Resource": "*",
          "Effect": "Allow"
      ],
      "Version": "1"
    }
    
    "#;

use crate::*;

fn policy(text: &str) -> Policy {
    Policy::parse(text).unwrap_or_else(|e| panic!("{e}"))
}

fn trust(text: &str) -> TrustPolicy {
    TrustPolicy::parse(text).unwrap_or_else(|e| panic!("{e}"))
}

fn policy_error(text: &str) -> PolicyError {
    Policy::parse(text).expect_err("document should be rejected")
}

fn trust_error(text: &str) -> PolicyError {
    TrustPolicy::parse(text).expect_err("document should be rejected")
}

/// Wraps statement bodies into a version-1 document.
fn doc(statements: &str) -> String {
    format!(r#"{{"Version": "1", "Statement": [{statements}]}}"#)
}

fn decide(p: &Policy, action: &str, resource: &str) -> Decision {
    p.evaluate(&Request::new(action, resource, &Context::new()))
}

const ECS: &str = "ecs.aliyuncs.com";

// ---- seeds -------------------------------------------------------------------------------

#[test]
fn seed_trust_policies_parse_and_trust_ecs() {
    for text in [SEED_000_TRUST, SEED_001_TRUST] {
        let t = trust(text);
        assert_eq!(t.trusted_services(), [ECS]);
        assert!(t.trusts_service("ECS.aliyuncs.com"));
        assert!(t.allows(&Principal::service(ECS), &Context::new()));
        assert!(!t.allows(&Principal::service("fc.aliyuncs.com"), &Context::new()));
        assert!(!t.allows(&Principal::ram("1234567890123456", "acs:ram::1234567890123456:root"), &Context::new()));
    }
}

#[test]
fn seed_permission_policy_is_oss_read_only() {
    let p = policy(SEED_000_PERMISSION);
    let object = "acs:oss:*:1234567890123456:bucket/key";
    assert!(decide(&p, "oss:GetObject", object).is_allowed());
    assert!(decide(&p, "oss:ListObjects", "acs:oss:*:1234567890123456:bucket").is_allowed());
    assert!(decide(&p, "oss:GetBucketInfo", "acs:oss:*:1234567890123456:bucket").is_allowed());
    let put = decide(&p, "oss:PutObject", object);
    assert_eq!(put.outcome, Outcome::ImplicitDeny);
    assert!(!decide(&p, "ecs:DescribeInstances", "*").is_allowed());
}

#[test]
fn a_trust_policy_is_not_a_permission_policy() {
    let e = policy_error(SEED_000_TRUST).to_string();
    assert!(e.starts_with("Statement[0]: unknown key \"Principal\"; \"Principal\" is only used in trust policies"), "{e}");
    let e = trust_error(SEED_000_PERMISSION).to_string();
    assert!(e.starts_with("Statement[0]: invalid value \"oss:Get*\"") || e.contains("trust policy"), "{e}");
}

#[test]
fn seed_002_principal_fragment() {
    let e = trust_error(SEED_002_PRINCIPAL_FRAGMENT);
    assert!(matches!(e, PolicyError::Syntax { .. }), "{e}");
    let wrapped = format!(
        r#"{{"Statement": [{{"Action": "sts:AssumeRole", "Effect": "Allow", "Principal": {{{SEED_002_PRINCIPAL_FRAGMENT}}}}}], "Version": "1"}}"#
    );
    assert_eq!(trust(&wrapped).trusted_services(), [ECS]);
}

#[test]
fn seed_003_trailing_spaces_are_rejected_with_hints() {
    assert_eq!(
        trust_error(SEED_003_TRUST).to_string(),
        r#"Statement[0].Principal: unknown key "Service " (note the trailing space); did you mean "Service"?"#
    );
    assert_eq!(
        policy_error(SEED_003_PERMISSION).to_string(),
        r#"Statement[0]: unknown key "Resource " (note the trailing space); did you mean "Resource"?"#
    );
    let e = policy_error(SEED_003_PASSROLE);
    let PolicyError::Syntax { line, .. } = e else { panic!("{e}") };
    assert_eq!(line, 4, "the action string where a key belongs");
    // Fixed, they work.
    assert!(trust(&SEED_003_TRUST.replace("\"Service \"", "\"Service\"")).trusts_service(ECS));
    assert!(decide(&policy(&SEED_003_PERMISSION.replace("\"Resource \"", "\"Resource\"")), "oss:GetObject", "acs:oss:*:1:b/k").is_allowed());
}

#[test]
fn seed_000_user_policy_fails_at_each_of_its_mistakes() {
    // 1. As printed, with Markdown escapes, it is not JSON.
    let e = policy_error(SEED_000_USER_POLICY);
    let PolicyError::Syntax { line, ref hint, .. } = e else { panic!("{e}") };
    assert_eq!(line, 7);
    assert!(hint.contains("Markdown escapes"), "{hint}");
    // 2. Unescaped, the date-style version is rejected.
    let unescaped = SEED_000_USER_POLICY.replace("\\[", "[").replace("\\]", "]");
    let e = policy_error(&unescaped);
    assert_eq!(
        e.to_string(),
        r#"Version: invalid value "2016-10-17"; RAM policies only accept "Version": "1"; date-style versions such as "2016-10-17" appear in some documentation samples but are not valid RAM policy versions"#
    );
    assert_eq!(e.location().unwrap().path(), "Version");
    // 3. With version 1, the placeholder action with spaces is rejected.
    let v1 = unescaped.replace("2016-10-17", "1");
    let e = policy_error(&v1);
    assert_eq!(
        e.to_string(),
        r#"Statement[0].Action[0]: invalid value "ecs: [ECS RAM Action]"; an action must not contain whitespace (note the whitespace inside), or it never matches a request"#
    );
    // 4. Without the placeholder, "ecs: CreateInstance" is rejected with the fix.
    let e = policy_error(&v1.replace("\"ecs: [ECS RAM Action]\",", ""));
    assert_eq!(
        e.to_string(),
        r#"Statement[0].Action[0]: invalid value "ecs: CreateInstance"; an action must not contain whitespace (note the whitespace inside), or it never matches a request; did you mean "ecs:CreateInstance"?"#
    );
    let loc = e.location().unwrap();
    assert_eq!((loc.statement_index(), loc.sid()), (Some(0), None));
    // 5. Fully fixed, it grants the PassRole setup (and the differently-cased action matches).
    let fixed = policy(&v1.replace("\"ecs: [ECS RAM Action]\",", "").replace("ecs: ", "ecs:"));
    assert!(decide(&fixed, "ecs:DetachInstanceRamRole", "acs:ecs:cn-hangzhou:1:instance/i-1").is_allowed());
    assert!(decide(&fixed, "ram:PassRole", "acs:ram:*:1:role/r").is_allowed());
    assert!(!decide(&fixed, "ecs:DeleteInstance", "acs:ecs:cn-hangzhou:1:instance/i-1").is_allowed());
}

#[test]
fn aws_version_is_explained() {
    let e = policy_error(r#"{"Version": "2012-10-17", "Statement": []}"#).to_string();
    assert!(e.contains("AWS IAM policy-language version"), "{e}");
    let e = policy_error(r#"{"Version": 1, "Statement": []}"#).to_string();
    assert_eq!(e, r#"Version: invalid value 1; RAM policies only accept "Version": "1": the version is the string "1", in quotes"#);
    let e = policy_error(r#"{"Version": " 1", "Statement": []}"#).to_string();
    assert!(e.contains("(note the leading space); did you mean \"1\"?"), "{e}");
    assert!(policy_error(r#"{"Version": "2", "Statement": []}"#).to_string().contains("only accept"));
    assert!(policy_error(r#"{"Version": null, "Statement": []}"#).to_string().contains("expected the string \"1\", found null"));
}

// ---- every parse error class ---------------------------------------------------------------

#[test]
fn document_envelope_errors() {
    assert!(matches!(policy_error("not json"), PolicyError::Syntax { .. }));
    assert_eq!(
        policy_error("[]").to_string(),
        r#"policy document: expected a JSON object with "Version" and "Statement", found an empty list"#
    );
    assert_eq!(
        policy_error(r#"{"Version": "1", "Statement": [], "Id": "x"}"#).to_string(),
        r#"policy document: unknown key "Id"; expected "Version" or "Statement""#
    );
    assert_eq!(
        policy_error(r#"{"version": "1", "Statement": []}"#).to_string(),
        r#"policy document: unknown key "version" (keys are case-sensitive); did you mean "Version"?"#
    );
    assert_eq!(
        policy_error(r#"{"Version": "1", "Statment": []}"#).to_string(),
        r#"policy document: unknown key "Statment"; did you mean "Statement"?"#
    );
    assert!(matches!(policy_error(r#"{"Version": "1", "Version": "1", "Statement": []}"#), PolicyError::DuplicateKey { .. }));
    assert_eq!(
        policy_error(r#"{"Statement": []}"#).to_string(),
        r#"policy document: missing required key "Version"; RAM policies must declare "Version": "1""#
    );
    assert!(matches!(policy_error(r#"{"Version": "1"}"#), PolicyError::MissingKey { .. }));
    assert_eq!(
        policy_error(r#"{"Version": "1", "Statement": "Allow"}"#).to_string(),
        r#"Statement: expected a list of statement objects, found a string ("Allow")"#
    );
    assert!(policy_error(&doc("42")).to_string().starts_with("Statement[0]: expected a statement object"));
}

#[test]
fn statement_errors() {
    let e = policy_error(&doc(r#"{"Sid": "ReadOnly", "Effect": "allow", "Action": "oss:Get*", "Resource": "*"}"#));
    assert_eq!(
        e.to_string(),
        r#"Statement[0].Effect (Sid "ReadOnly"): invalid value "allow"; expected "Allow" or "Deny" (the value is case-sensitive); did you mean "Allow"?"#
    );
    let loc = e.location().unwrap();
    assert_eq!((loc.path(), loc.statement_index(), loc.sid()), ("Statement[0].Effect", Some(0), Some("ReadOnly")));
    assert!(policy_error(&doc(r#"{"Effect": "Permit", "Action": "*", "Resource": "*"}"#))
        .to_string()
        .ends_with(r#"expected "Allow" or "Deny""#));
    assert!(policy_error(&doc(r#"{"Effect": true, "Action": "*", "Resource": "*"}"#)).to_string().contains("found a boolean (true)"));
    assert!(policy_error(&doc(r#"{"Sid": 7, "Effect": "Allow", "Action": "*", "Resource": "*"}"#))
        .to_string()
        .starts_with("Statement[0].Sid: expected a string"));
    assert_eq!(
        policy_error(&doc(r#"{"Action": "*", "Resource": "*"}"#)).to_string(),
        r#"Statement[0]: missing required key "Effect"; add "Effect": "Allow" or "Effect": "Deny""#
    );
    assert!(policy_error(&doc(r#"{"Effect": "Allow", "Resource": "*"}"#)).to_string().contains(r#"missing required key "Action""#));
    assert!(policy_error(&doc(r#"{"Effect": "Allow", "Action": "*"}"#))
        .to_string()
        .contains(r#"use "Resource": "*" to mean every resource"#));
    assert_eq!(
        policy_error(&doc(r#"{"Effect": "Allow", "Action": "*", "NotAction": "ram:*", "Resource": "*"}"#)).to_string(),
        r#"Statement[0]: "Action" and "NotAction" cannot be used together; use exactly one of them"#
    );
    assert!(matches!(
        policy_error(&doc(r#"{"Effect": "Allow", "Action": "*", "NotResource": "*", "Resource": "*"}"#)),
        PolicyError::ConflictingKeys { .. }
    ));
    assert!(matches!(
        policy_error(&doc(r#"{"Effect": "Allow", "Effect": "Deny", "Action": "*", "Resource": "*"}"#)),
        PolicyError::DuplicateKey { .. }
    ));
    assert_eq!(
        policy_error(&doc(r#"{"Effect": "Allow", "Actions": "*", "Resource": "*"}"#)).to_string(),
        r#"Statement[0]: unknown key "Actions"; did you mean "Action"?"#
    );
    let e = policy_error(&doc(
        r#"{"Effect": "Allow", "Action": "*", "Resource": "*"}, {"Sid": "Second", "Effect": "Allow", "Action": "*", "Resource": "*", "Condition": {"StringEqual": {"oss:Prefix": "a"}}}"#,
    ));
    assert_eq!(
        e.to_string(),
        r#"Statement[1].Condition (Sid "Second"): unknown condition operator "StringEqual"; did you mean "StringEquals"?"#
    );
    assert!(matches!(e, PolicyError::UnknownOperator { .. }));
    let e =
        policy_error(&doc(r#"{"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": {"StringEquals": {"acs:SourceIP ": "a"}}}"#));
    assert!(matches!(e, PolicyError::UnknownConditionKey { .. }), "{e}");
    assert!(policy_error(&doc(r#"{"Effect": "Allow", "Action": "*", "Resource": "arn:aws:s3:::b/*"}"#)).to_string().contains("AWS ARN"));
    assert!(policy_error(&doc(r#"{"Effect": "Allow", "Action": [], "Resource": "*"}"#)).to_string().contains("non-empty list"));
    assert!(policy_error(&doc(r#"{"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": []}"#))
        .to_string()
        .contains("Statement[0].Condition: expected an object"));
}

#[test]
fn trust_errors() {
    let t = |statement: &str| trust_error(&doc(statement)).to_string();
    assert_eq!(
        t(r#"{"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"Service": "ecs.aliyuncs.com"}, "Resource": "*"}"#),
        r#"Statement[0]: unknown key "Resource"; a trust policy has no "Resource" (the role itself is the resource); remove it"#
    );
    assert!(t(r#"{"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"Service": "ecs.aliyuncs.com"}, "Resource ": "*"}"#)
        .contains("(note the trailing space); a trust policy has no \"Resource\""));
    assert!(t(r#"{"Effect": "Allow", "NotAction": "sts:AssumeRole", "Principal": {"RAM": "1"}}"#).contains("must use \"Action\""));
    assert!(t(r#"{"Effect": "Allow", "Action": "sts:AssumeRole"}"#).contains(r#"missing required key "Principal""#));
    assert!(t(r#"{"Effect": "Allow", "Action": "oss:GetObject", "Principal": {"RAM": "1"}}"#).contains("only grants \"sts:AssumeRole\""));
    assert!(t(r#"{"Effect": "Allow", "Action": "*", "Principal": {"RAM": "1"}}"#).contains("only grants"));
    assert!(t(r#"{"Effect": "Allow", "Action": "sts:GetCallerIdentity", "Principal": {"RAM": "1"}}"#).contains("only grants"));
    assert!(t(r#"{"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": "*"}"#).contains("expected an object such as"));
    assert!(t(r#"{"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {}}"#).contains("found an object"));
    assert_eq!(
        t(r#"{"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"service": ["ecs.aliyuncs.com"]}}"#),
        r#"Statement[0].Principal: unknown key "service" (keys are case-sensitive); did you mean "Service"?"#
    );
    assert!(t(r#"{"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"AWS": "1"}}"#)
        .contains(r#"expected one of "Service", "RAM", "Federated""#));
    assert!(t(r#"{"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"Service": "ecs"}}"#)
        .contains("did you mean \"ecs.aliyuncs.com\"?"));
    assert!(t(r#"{"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"Service": [" ecs.aliyuncs.com"]}}"#)
        .starts_with(r#"Statement[0].Principal.Service[0]: invalid value " ecs.aliyuncs.com""#));
    assert!(t(r#"{"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"Service": "ecs.aliyuncs.com/x"}}"#).contains("domain name"));
    assert!(t(r#"{"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"RAM": "acs:ram::12345678901234****:root"}}"#)
        .contains("wildcards are not allowed"));
    assert!(t(r#"{"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"RAM": "acs:ram::123:group/dev"}}"#)
        .contains("a RAM principal is"));
    assert!(t(r#"{"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"RAM": "acs:ram::123:role/*"}}"#).contains("wildcards"));
    assert!(t(r#"{"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"RAM": "arn:aws:iam::123:root"}}"#)
        .contains("a RAM principal is"));
    assert!(t(r#"{"Effect": "Allow", "Action": "sts:AssumeRoleWithSAML", "Principal": {"Federated": "acs:ram::123:user/x"}}"#)
        .contains("federated principal"));
}

// ---- evaluation --------------------------------------------------------------------------

const ACCOUNT: &str = "1234567890123456";

#[test]
fn explicit_deny_wins_across_policies_and_explains_itself() {
    let allow_all = policy(r#"{"Version": "1", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}"#);
    let guard = policy(&doc(r#"{"Effect": "Allow", "Action": "oss:GetObject", "Resource": "*"},
           {"Sid": "NoDeletes", "Effect": "Deny", "Action": "oss:Delete*", "Resource": "acs:oss:*:*:prod/*"}"#));
    let set = PolicySet::new().with("AdministratorAccess", &allow_all).with("guard", &guard);
    assert_eq!(set.len(), 2);
    let ctx = Context::new();
    let d = set.evaluate(&Request::new("oss:DeleteObject", "acs:oss:*:1:prod/a", &ctx));
    assert_eq!(d.outcome, Outcome::ExplicitDeny);
    assert!(d.is_explicit_deny());
    let by = d.decided_by.as_ref().unwrap();
    assert_eq!((by.policy_index, by.policy.as_str(), by.statement_index, by.sid.as_deref()), (1, "guard", 1, Some("NoDeletes")));
    assert_eq!(d.to_string(), r#"explicitly denied by statement 1 (Sid "NoDeletes") of policy "guard""#);
    let d = set.evaluate(&Request::new("oss:DeleteObject", "acs:oss:*:1:dev/a", &ctx));
    assert!(d.is_allowed());
    assert_eq!(d.to_string(), r#"allowed by statement 0 of policy "AdministratorAccess""#);
    // Order does not matter.
    let d =
        evaluate(&[("guard", &guard), ("AdministratorAccess", &allow_all)], &Request::new("oss:DeleteObject", "acs:oss:*:1:prod/a", &ctx));
    assert!(d.is_explicit_deny());
}

#[test]
fn implicit_deny() {
    let p = policy(SEED_000_PERMISSION);
    let ctx = Context::new();
    let d = evaluate(&[("a", &p), ("b", &p)], &Request::new("ecs:StartInstance", "*", &ctx));
    assert_eq!(d.outcome, Outcome::ImplicitDeny);
    assert_eq!(d.decided_by, None);
    assert_eq!(d.to_string(), "implicitly denied: no statement in the 2 policies evaluated allows this action on this resource");
    assert_eq!(
        decide(&p, "ecs:StartInstance", "*").to_string(),
        "implicitly denied: no statement in the policy allows this action on this resource"
    );
    let d = evaluate(&[], &Request::new("oss:GetObject", "*", &ctx));
    assert_eq!(d.to_string(), "implicitly denied: no policy applies to the caller");
    let empty = policy(r#"{"Version": "1", "Statement": []}"#);
    assert!(!decide(&empty, "oss:GetObject", "*").is_allowed());
}

#[test]
fn single_statement_object_is_tolerated() {
    let p = policy(r#"{"Version": "1", "Statement": {"Effect": "Allow", "Action": "oss:GetObject", "Resource": "*"}}"#);
    assert!(decide(&p, "oss:GetObject", "acs:oss:*:1:b/k").is_allowed());
    let e = policy_error(r#"{"Version": "1", "Statement": {"Effect": "Alow", "Action": "oss:GetObject", "Resource": "*"}}"#);
    assert!(
        e.to_string().starts_with(r#"Statement.Effect: invalid value "Alow"; expected "Allow" or "Deny"; did you mean "Allow"?"#),
        "{e}"
    );
}

#[test]
fn action_matching_is_case_insensitive_with_wildcards() {
    let p = policy(&doc(
        r#"{"Effect": "Allow", "Action": ["ecs:AttachInstanceRamRole", "ecs:DetachInstanceRAMRole", "ecs:Describe*", "oss:Get?bject"], "Resource": "*"}"#,
    ));
    for action in [
        "ecs:attachinstanceramrole",
        "ECS:DetachInstanceRamRole",
        "ecs:DescribeInstances",
        "ecs:Describe",
        "oss:GetObject",
        "oss:getobject",
    ] {
        assert!(decide(&p, action, "*").is_allowed(), "{action}");
    }
    for action in ["ecs:AttachInstanceRamRoles", "ecs:StartInstance", "oss:GetObjectAcl", "oss:Getbject", "xecs:DescribeInstances"] {
        assert!(!decide(&p, action, "*").is_allowed(), "{action}");
    }
}

#[test]
fn resource_matching_is_case_sensitive_except_the_prefix() {
    let p =
        policy(&doc(r#"{"Effect": "Allow", "Action": "oss:*", "Resource": ["acs:oss:*:*:Photos/2015/*", "acs:oss:*:*:logs/day-??.txt"]}"#));
    let allowed = |r: &str| decide(&p, "oss:GetObject", r).is_allowed();
    assert!(allowed("acs:oss:*:1234567890123456:Photos/2015/cat.jpg"));
    assert!(allowed("ACS:OSS:*:1234567890123456:Photos/2015/cat.jpg"));
    assert!(allowed("acs:oss:cn-hangzhou:1:Photos/2015/"));
    assert!(!allowed("acs:oss:*:1:photos/2015/cat.jpg"));
    assert!(!allowed("acs:oss:*:1:Photos/2016/cat.jpg"));
    assert!(!allowed("acs:ecs:*:1:Photos/2015/cat.jpg"));
    assert!(allowed("acs:oss:*:1:logs/day-07.txt"));
    assert!(!allowed("acs:oss:*:1:logs/day-7.txt"));
    // Account in the pattern.
    let p = policy(&doc(&format!(r#"{{"Effect": "Allow", "Action": "ram:PassRole", "Resource": "acs:ram:*:{ACCOUNT}:role/ecs-*"}}"#)));
    assert!(decide(&p, "ram:PassRole", &format!("acs:ram:*:{ACCOUNT}:role/ecs-reader")).is_allowed());
    assert!(!decide(&p, "ram:PassRole", "acs:ram:*:6543210987654321:role/ecs-reader").is_allowed());
}

#[test]
fn not_action_and_not_resource() {
    // Everything except RAM.
    let p = policy(&doc(r#"{"Effect": "Allow", "NotAction": ["ram:*", "sts:*"], "Resource": "*"}"#));
    assert!(decide(&p, "oss:PutObject", "*").is_allowed());
    assert!(decide(&p, "ecs:RunInstances", "*").is_allowed());
    assert!(!decide(&p, "ram:CreateUser", "*").is_allowed());
    assert!(!decide(&p, "STS:AssumeRole", "*").is_allowed());
    assert!(p.statements()[0].is_not_action());
    assert_eq!(p.statements()[0].actions().collect::<Vec<_>>(), ["ram:*", "sts:*"]);
    // Deny everything outside one bucket, allow OSS.
    let p = policy(&doc(r#"{"Effect": "Allow", "Action": "oss:*", "Resource": "*"},
           {"Sid": "OnlyMyBucket", "Effect": "Deny", "Action": "oss:*", "NotResource": ["acs:oss:*:*:mine", "acs:oss:*:*:mine/*"]}"#));
    assert!(decide(&p, "oss:GetObject", "acs:oss:*:1:mine/k").is_allowed());
    assert!(decide(&p, "oss:ListObjects", "acs:oss:*:1:mine").is_allowed());
    let d = decide(&p, "oss:GetObject", "acs:oss:*:1:other/k");
    assert!(d.is_explicit_deny());
    assert_eq!(d.decided_by.unwrap().sid.as_deref(), Some("OnlyMyBucket"));
    assert!(p.statements()[1].is_not_resource());
    // Deny with NotAction: everything but reads is denied.
    let p = policy(&doc(r#"{"Effect": "Allow", "Action": "*", "Resource": "*"},
           {"Effect": "Deny", "NotAction": ["oss:Get*", "oss:List*"], "Resource": "*"}"#));
    assert!(decide(&p, "oss:GetObject", "*").is_allowed());
    assert!(decide(&p, "oss:PutObject", "*").is_explicit_deny());
}

#[test]
fn conditions_in_statements() {
    let p = policy(&doc(r#"{"Effect": "Allow", "Action": "oss:ListObjects", "Resource": "acs:oss:*:*:myphotos",
            "Condition": {"StringLike": {"oss:Prefix": "hangzhou/2015/*"}}},
           {"Sid": "HttpsOnly", "Effect": "Deny", "Action": "oss:*", "Resource": "*",
            "Condition": {"Bool": {"acs:SecureTransport": "false"}}},
           {"Sid": "OfficeOnly", "Effect": "Deny", "Action": "*", "Resource": "*",
            "Condition": {"NotIpAddressIfExists": {"acs:SourceIp": ["10.0.0.0/8", "2001:db8::/32"]}}}"#));
    let mut ctx = Context::new();
    ctx.set_secure_transport(true).set_source_ip("10.1.1.1".parse().unwrap()).insert("oss:Prefix", "hangzhou/2015/a");
    let req = |ctx: &Context| p.evaluate(&Request::new("oss:ListObjects", "acs:oss:*:1:myphotos", ctx)).outcome;
    assert_eq!(req(&ctx), Outcome::Allow);
    ctx.set("oss:Prefix", "beijing/");
    assert_eq!(req(&ctx), Outcome::ImplicitDeny);
    ctx.set("oss:Prefix", "hangzhou/2015/");
    ctx.set_secure_transport(false);
    assert_eq!(req(&ctx), Outcome::ExplicitDeny);
    ctx.set_secure_transport(true);
    ctx.set_source_ip("8.8.8.8".parse().unwrap());
    assert_eq!(req(&ctx), Outcome::ExplicitDeny);
    ctx.set_source_ip("2001:db8::1".parse().unwrap());
    assert_eq!(req(&ctx), Outcome::Allow);
    ctx.remove("acs:SourceIp");
    assert_eq!(req(&ctx), Outcome::ExplicitDeny, "IfExists: no source IP, so the condition holds and the deny applies");
    ctx.set_source_ip("10.0.0.1".parse().unwrap());
    ctx.remove("acs:SecureTransport");
    assert_eq!(req(&ctx), Outcome::Allow, "Bool with a missing key is false, so the deny does not apply");
}

#[test]
fn time_window_condition() {
    let p = policy(&doc(r#"{"Effect": "Allow", "Action": "ecs:*", "Resource": "*",
            "Condition": {"DateGreaterThanEquals": {"acs:CurrentTime": "2019-08-12T09:00:00+08:00"},
                          "DateLessThan": {"acs:CurrentTime": "2019-08-12T17:00:00+08:00"}}}"#));
    let at = |t: time::OffsetDateTime| {
        let mut ctx = Context::new();
        ctx.set_current_time(t);
        p.evaluate(&Request::new("ecs:StartInstance", "*", &ctx)).is_allowed()
    };
    assert!(at(time::macros::datetime!(2019-08-12 01:00 UTC)));
    assert!(at(time::macros::datetime!(2019-08-12 08:59:59 UTC)));
    assert!(!at(time::macros::datetime!(2019-08-12 09:00 UTC)));
    assert!(!at(time::macros::datetime!(2019-08-12 00:59:59 UTC)));
    assert!(!decide(&p, "ecs:StartInstance", "*").is_allowed(), "no current time in the context");
}

#[test]
fn session_policy_restricts_role_policies() {
    let role = policy(r#"{"Version": "1", "Statement": [{"Effect": "Allow", "Action": "oss:*", "Resource": "*"}]}"#);
    let session = policy(&doc(r#"{"Effect": "Allow", "Action": "oss:GetObject", "Resource": "acs:oss:*:*:shared/*"}"#));
    let ctx = Context::new();
    let both = |action: &str, resource: &str| {
        let req = Request::new(action, resource, &ctx);
        evaluate(&[("role", &role)], &req).intersect(evaluate(&[("session policy", &session)], &req))
    };
    assert!(both("oss:GetObject", "acs:oss:*:1:shared/a").is_allowed());
    let d = both("oss:PutObject", "acs:oss:*:1:shared/a");
    assert_eq!(d.outcome, Outcome::ImplicitDeny);
    let deny_session = policy(&doc(
        r#"{"Effect": "Allow", "Action": "*", "Resource": "*"}, {"Sid": "X", "Effect": "Deny", "Action": "oss:GetObject", "Resource": "*"}"#,
    ));
    let req = Request::new("oss:GetObject", "acs:oss:*:1:shared/a", &ctx);
    let d = evaluate(&[("role", &role)], &req).intersect(evaluate(&[("session policy", &deny_session)], &req));
    assert!(d.is_explicit_deny());
    assert_eq!(d.decided_by.unwrap().policy, "session policy");
    // Nothing in the role: the session policy cannot grant on its own.
    let nothing = policy(r#"{"Version": "1", "Statement": []}"#);
    let d = evaluate(&[("role", &nothing)], &req).intersect(evaluate(&[("session policy", &session)], &req));
    assert_eq!(d.outcome, Outcome::ImplicitDeny);
}

// ---- trust policies ------------------------------------------------------------------------

fn trust_doc(principal: &str) -> TrustPolicy {
    trust(&doc(&format!(r#"{{"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {principal}}}"#)))
}

#[test]
fn ram_root_trusts_every_identity_of_the_account() {
    for principal in [format!(r#"{{"RAM": "acs:ram::{ACCOUNT}:root"}}"#), format!(r#"{{"RAM": ["{ACCOUNT}"]}}"#)] {
        let t = trust_doc(&principal);
        let ctx = Context::new();
        for arn in ["root", "user/alice", "role/admin", "assumed-role/admin/session-1"] {
            let p = Principal::from_ram_arn(&format!("acs:ram::{ACCOUNT}:{arn}")).unwrap();
            assert!(t.allows(&p, &ctx), "{principal} {arn}");
        }
        assert!(!t.allows(&Principal::from_ram_arn("acs:ram::6543210987654321:root").unwrap(), &ctx));
        assert!(!t.allows(&Principal::service(ECS), &ctx));
        assert!(t.trusted_services().is_empty());
        assert!(!t.trusts_service(ECS));
    }
}

#[test]
fn specific_user_and_role_principals() {
    let t = trust_doc(&format!(r#"{{"RAM": ["acs:ram::{ACCOUNT}:user/alice", "acs:ram::{ACCOUNT}:role/Deployer"]}}"#));
    let ctx = Context::new();
    let allows = |arn: &str| t.allows(&Principal::ram(ACCOUNT, arn), &ctx);
    assert!(allows(&format!("acs:ram::{ACCOUNT}:user/alice")));
    assert!(allows(&format!("acs:ram::{ACCOUNT}:user/Alice")), "names compare case-insensitively");
    assert!(!allows(&format!("acs:ram::{ACCOUNT}:user/bob")));
    assert!(!allows(&format!("acs:ram::{ACCOUNT}:root")), "naming a user does not trust the root");
    assert!(allows(&format!("acs:ram::{ACCOUNT}:role/deployer")));
    assert!(allows(&format!("acs:ram::{ACCOUNT}:assumed-role/Deployer/ci-run-1")));
    assert!(!allows(&format!("acs:ram::{ACCOUNT}:assumed-role/Other/ci-run-1")));
    assert!(!allows(&format!("acs:ram::{ACCOUNT}:user/Deployer")));
    assert!(!t.allows(&Principal::ram("6543210987654321", "acs:ram::6543210987654321:user/alice"), &ctx));
    assert!(!allows("not an arn"));
}

#[test]
fn explicit_deny_in_trust_policy_wins() {
    let t = trust(&doc(&format!(
        r#"{{"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {{"RAM": "{ACCOUNT}", "Service": ["ecs.aliyuncs.com", "fc.aliyuncs.com"]}}}},
           {{"Sid": "NotMallory", "Effect": "Deny", "Action": "sts:AssumeRole", "Principal": {{"RAM": "acs:ram::{ACCOUNT}:user/mallory", "Service": "fc.aliyuncs.com"}}}}"#
    )));
    let ctx = Context::new();
    let mallory = Principal::ram(ACCOUNT, format!("acs:ram::{ACCOUNT}:user/mallory"));
    let d = t.evaluate(ASSUME_ROLE, &mallory, &ctx);
    assert!(d.is_explicit_deny());
    assert_eq!(d.to_string(), r#"explicitly denied by statement 1 (Sid "NotMallory") of policy "trust policy""#);
    assert!(t.allows(&Principal::ram(ACCOUNT, format!("acs:ram::{ACCOUNT}:user/alice")), &ctx));
    assert!(t.allows(&Principal::service(ECS), &ctx));
    assert!(!t.allows(&Principal::service("fc.aliyuncs.com"), &ctx));
    // trusted_services lists what Allow statements name; the static check ignores the Deny.
    assert_eq!(t.trusted_services(), [ECS, "fc.aliyuncs.com"]);
}

#[test]
fn trust_conditions_and_federation() {
    let t = trust(&doc(&format!(
        r#"{{"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {{"RAM": ["{ACCOUNT}"]}},
            "Condition": {{"IpAddress": {{"acs:SourceIp": "10.0.0.0/8"}}}}}},
           {{"Effect": "Allow", "Action": ["sts:AssumeRoleWithSAML", "sts:AssumeRoleWithOIDC"],
            "Principal": {{"Federated": ["acs:ram::{ACCOUNT}:saml-provider/idp", "acs:ram::{ACCOUNT}:oidc-provider/gh"]}},
            "Condition": {{"StringEquals": {{"oidc:aud": "sts.aliyuncs.com"}}}}}},
           {{"Effect": "Allow", "Action": "sts:*", "Principal": {{"Service": "{ACCOUNT}@actiontrail.aliyuncs.com"}}}}"#
    )));
    let user = Principal::from_ram_arn(&format!("acs:ram::{ACCOUNT}:user/alice")).unwrap();
    let mut ctx = Context::new();
    assert!(!t.allows(&user, &ctx));
    ctx.set_source_ip("10.2.3.4".parse().unwrap());
    assert!(t.allows(&user, &ctx));
    // A RAM user does not get in through the federated statement's action.
    assert!(!t.evaluate(ASSUME_ROLE_WITH_SAML, &user, &ctx).is_allowed());
    let oidc = Principal::Federated(format!("acs:ram::{ACCOUNT}:oidc-provider/gh"));
    assert_eq!(oidc.assume_action(), ASSUME_ROLE_WITH_OIDC);
    assert!(!t.allows(&oidc, &ctx));
    ctx.insert("oidc:aud", "sts.aliyuncs.com");
    assert!(t.allows(&oidc, &ctx));
    let saml = Principal::Federated(format!("acs:ram::{ACCOUNT}:saml-provider/IDP"));
    assert_eq!(saml.assume_action(), ASSUME_ROLE_WITH_SAML);
    assert!(t.allows(&saml, &ctx));
    assert!(!t.evaluate(ASSUME_ROLE, &saml, &ctx).is_allowed(), "SAML principals only via AssumeRoleWithSAML");
    assert!(t.allows(&Principal::service(format!("{ACCOUNT}@actiontrail.aliyuncs.com")), &Context::new()));
    assert!(!t.allows(&Principal::service("actiontrail.aliyuncs.com"), &Context::new()));
    assert_eq!(Principal::from_ram_arn("acs:ecs::1:instance/x"), None);
}

#[test]
fn parsing_via_from_str() {
    let p: Policy = SEED_000_PERMISSION.parse().unwrap();
    assert_eq!(p.statements().len(), 1);
    assert_eq!(p.statements()[0].effect(), Effect::Allow);
    assert_eq!(p.statements()[0].resources().collect::<Vec<_>>(), ["*"]);
    assert!(!p.statements()[0].has_condition());
    let t: TrustPolicy = SEED_001_TRUST.parse().unwrap();
    assert_eq!(t.statements()[0].sid(), None);
    assert_eq!(t.statements()[0].resources().count(), 0);
}

#[test]
fn names_compared_without_case_take_the_reading_that_denies_more() {
    let ctx = Context::new();
    let req = |resource| Request::new("ram:GetUser", resource, &ctx).with_names_ignoring_case(true);
    // A Deny written in any case covers the user.
    let deny = policy(&doc(
        r#"{"Effect": "Allow", "Action": "*", "Resource": "*"}, {"Effect": "Deny", "Action": "*", "Resource": "acs:ram:*:1:user/victim"}"#,
    ));
    for spelling in ["acs:ram:*:1:user/victim", "acs:ram:*:1:user/Victim", "acs:ram:*:1:user/VICTIM"] {
        assert!(deny.evaluate(&req(spelling)).is_explicit_deny(), "{spelling}");
        assert_eq!(deny.evaluate(&Request::new("ram:GetUser", spelling, &ctx)).is_explicit_deny(), spelling.ends_with("victim"));
    }
    // An Allow covers only its exact spelling...
    let allow = policy(&doc(r#"{"Effect": "Allow", "Action": "*", "Resource": "acs:ram:*:1:user/alice"}"#));
    assert!(allow.evaluate(&req("acs:ram:*:1:user/alice")).is_allowed());
    assert!(!allow.evaluate(&req("acs:ram:*:1:user/ALICE")).is_allowed());
    // ...and an exception (NotResource) counts in either spelling for an Allow, only exactly for a Deny.
    let allow_but = policy(&doc(r#"{"Effect": "Allow", "Action": "*", "NotResource": "acs:ram:*:1:user/admin"}"#));
    assert!(!allow_but.evaluate(&req("acs:ram:*:1:user/ADMIN")).is_allowed());
    assert!(allow_but.evaluate(&Request::new("ram:GetUser", "acs:ram:*:1:user/ADMIN", &ctx)).is_allowed());
    let deny_but = policy(&doc(
        r#"{"Effect": "Allow", "Action": "*", "Resource": "*"}, {"Effect": "Deny", "Action": "*", "NotResource": "acs:ram:*:1:user/admin"}"#,
    ));
    assert!(deny_but.evaluate(&req("acs:ram:*:1:user/ADMIN")).is_explicit_deny());
    assert!(!deny_but.evaluate(&req("acs:ram:*:1:user/admin")).is_explicit_deny());
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Parsing arbitrary text never panics; it either parses or says why not.
        #[test]
        fn parse_never_panics(text in ".{0,200}") {
            let _ = Policy::parse(&text);
            let _ = TrustPolicy::parse(&text);
        }

        /// Structured near-miss documents never panic either, and errors always render.
        #[test]
        fn near_miss_documents_never_panic(
            key in prop::sample::select(vec!["Effect", "Action", "NotAction", "Resource", "NotResource", "Condition", "Principal", "Sid", "Resource ", "effect"]),
            value in prop::sample::select(vec![r#""*""#, r#""Allow""#, "[]", "{}", "1", "null", r#"["oss:Get*"]"#, r#"{"StringLike": {"oss:Prefix": "a*"}}"#, r#"{"RAM": "1"}"#]),
        ) {
            let text = doc(&format!(r#"{{"Effect": "Allow", "{key}": {value}}}"#));
            if let Err(e) = Policy::parse(&text) { prop_assert!(!e.to_string().is_empty()); }
            if let Err(e) = TrustPolicy::parse(&text) { prop_assert!(!e.to_string().is_empty()); }
        }

        /// Arbitrary text in every string position (actions, resources, keys, values,
        /// principals) is either accepted or rejected with a message; never a panic.
        #[test]
        fn arbitrary_strings_in_every_position_never_panic(a in "\\PC{0,24}", b in "\\PC{0,24}") {
            let a = serde_json::Value::String(a).to_string();
            let b = serde_json::Value::String(b).to_string();
            let permission = [
                format!(r#"{{"Effect": "Allow", "Action": {a}, "Resource": {b}}}"#),
                format!(r#"{{"Effect": {a}, "Action": "*", "Resource": "*", "Sid": {b}}}"#),
                format!(r#"{{"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": {{{a}: {{"oss:Prefix": {b}}}}}}}"#),
                format!(r#"{{"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": {{"StringLike": {{{a}: {b}}}}}}}"#),
                format!(r#"{{"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": {{"IpAddress": {{"acs:SourceIp": {b}}}, "DateLessThan": {{"acs:CurrentTime": {a}}}}}}}"#),
                format!(r#"{{"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": {{"NumericLessThan": {{"oss:MaxKeys": {b}}}, "Bool": {{"acs:SecureTransport": {a}}}}}}}"#),
            ];
            for statement in &permission {
                if let Ok(p) = Policy::parse(&doc(statement)) {
                    let mut ctx = Context::new();
                    ctx.insert("oss:Prefix", a.as_str()).insert("acs:SourceIp", b.as_str()).insert("acs:CurrentTime", a.as_str());
                    let _ = p.evaluate(&Request::new(&a, &b, &ctx));
                } else if let Err(e) = Policy::parse(&doc(statement)) {
                    prop_assert!(!e.to_string().is_empty());
                }
            }
            let trust_statement = format!(r#"{{"Effect": "Allow", "Action": {a}, "Principal": {{"Service": {b}, "RAM": {a}, "Federated": {b}}}}}"#);
            if let Ok(t) = TrustPolicy::parse(&doc(&trust_statement)) {
                let _ = t.allows(&Principal::ram("1", b.trim_matches('"')), &Context::new());
            }
        }

        /// Comparing names either way never allows more and never denies less than the exact reading.
        #[test]
        fn ignoring_case_is_never_more_permissive(
            effect in prop::sample::select(vec!["Allow", "Deny"]),
            key in prop::sample::select(vec!["Resource", "NotResource"]),
            pattern in "[aAbB*?]{0,5}",
            name in "[aAbB]{0,5}",
        ) {
            let allow_all = r#"{"Effect": "Allow", "Action": "*", "Resource": "*"}"#;
            let statement = format!(r#"{{"Effect": "{effect}", "Action": "*", "{key}": "acs:ram:*:1:user/{pattern}"}}"#);
            let p = policy(&doc(&if effect == "Deny" { format!("{allow_all}, {statement}") } else { statement }));
            let resource = format!("acs:ram:*:1:user/{name}");
            let ctx = Context::new();
            let exact = p.evaluate(&Request::new("ram:GetUser", &resource, &ctx));
            let either = p.evaluate(&Request::new("ram:GetUser", &resource, &ctx).with_names_ignoring_case(true));
            prop_assert!(!either.is_allowed() || exact.is_allowed());
            prop_assert!(!exact.is_explicit_deny() || either.is_explicit_deny());
        }

        /// An action pattern built from an action by wildcarding always allows that action.
        #[test]
        fn wildcarded_action_allows_the_action(service in "[a-z]{2,6}", name in "[A-Z][A-Za-z]{1,20}", cut in 0usize..20) {
            let action = format!("{service}:{name}");
            let cut = cut.min(name.len());
            let pattern = format!("{service}:{}*", &name[..cut]);
            let p = policy(&doc(&format!(r#"{{"Effect": "Allow", "Action": "{pattern}", "Resource": "*"}}"#)));
            prop_assert!(decide(&p, &action.to_uppercase(), "*").is_allowed());
        }
    }
}

#[test]
fn an_empty_region_in_a_resource_matches_any_region() {
    // RAM prints its ARNs with an empty region; requests name global resources with `*` there.
    let deny = policy(&doc(r#"{"Effect":"Deny","Action":"ram:GetUser","Resource":"acs:ram::123:user/victim"}"#));
    assert!(decide(&deny, "ram:GetUser", "acs:ram:*:123:user/victim").is_explicit_deny());
    assert!(!decide(&deny, "ram:GetUser", "acs:ram:*:123:user/other").is_explicit_deny());
    let allow = policy(&doc(r#"{"Effect":"Allow","Action":"ram:PassRole","Resource":"acs:ram::*:role/r"}"#));
    assert!(decide(&allow, "ram:PassRole", "acs:ram:*:123:role/r").is_allowed());
    assert!(!decide(&allow, "ram:PassRole", "acs:ram:*:123:role/rr").is_allowed());
}

#[test]
fn an_empty_region_allows_only_global_resources_but_denies_everywhere() {
    // RAM's own ARN form: requests to RAM carry `*` as the region, which both readings cover.
    let ram = policy(&doc(r#"{"Effect": "Allow", "Action": "ram:GetUser", "Resource": "acs:ram::123:user/alice"}"#));
    assert!(decide(&ram, "ram:GetUser", "acs:ram:*:123:user/alice").is_allowed());
    // For a regional service the reading "every region" is not documented: an Allow takes the
    // narrower one and grants nothing in a named region.
    let ecs = policy(&doc(r#"{"Effect": "Allow", "Action": "ecs:StartInstance", "Resource": "acs:ecs::123:instance/*"}"#));
    assert!(!decide(&ecs, "ecs:StartInstance", "acs:ecs:cn-hangzhou:123:instance/i-1").is_allowed());
    // NotResource with an empty region, in an Allow: the wider reading lists more, so covers less.
    let not = policy(&doc(r#"{"Effect": "Allow", "Action": "ecs:*", "NotResource": "acs:ecs::123:instance/i-secret"}"#));
    assert!(!decide(&not, "ecs:StartInstance", "acs:ecs:cn-hangzhou:123:instance/i-secret").is_allowed());
    assert!(decide(&not, "ecs:StartInstance", "acs:ecs:cn-hangzhou:123:instance/i-other").is_allowed());
    // A Deny takes the wider reading and applies in every region.
    let deny = policy(&doc(r#"{"Effect": "Allow", "Action": "ecs:*", "Resource": "*"},
           {"Effect": "Deny", "Action": "ecs:StartInstance", "Resource": "acs:ecs::123:instance/*"}"#));
    assert!(!decide(&deny, "ecs:StartInstance", "acs:ecs:cn-hangzhou:123:instance/i-1").is_allowed());
    assert!(decide(&deny, "ecs:StopInstance", "acs:ecs:cn-hangzhou:123:instance/i-1").is_allowed());
    // An empty account: a Deny reads it as any account, an Allow as none.
    let account = policy(&doc(r#"{"Effect": "Allow", "Action": "ram:*", "Resource": ["*", "acs:ram:*::user/bob"]},
           {"Effect": "Deny", "Action": "ram:GetUser", "Resource": "acs:ram:*::user/alice"}"#));
    assert!(!decide(&account, "ram:GetUser", "acs:ram:*:123:user/alice").is_allowed());
    assert!(decide(&account, "ram:GetUser", "acs:ram:*:123:user/bob").is_allowed());
    let only_empty = policy(&doc(r#"{"Effect": "Allow", "Action": "ram:GetUser", "Resource": "acs:ram:*::user/bob"}"#));
    assert!(!decide(&only_empty, "ram:GetUser", "acs:ram:*:123:user/bob").is_allowed());
}

/// A Deny with `StringEqualsIgnoreCase` binds a request value identical to the policy's, a final
/// capital sigma included (the policy's value and the request's were lower-cased differently).
#[test]
fn ignore_case_binds_identical_non_ascii_values() {
    let p = policy(&doc(r#"{"Effect": "Allow", "Action": "ram:GetRole", "Resource": "*"},
           {"Effect": "Deny", "Action": "ram:GetRole", "Resource": "*",
            "Condition": {"StringEqualsIgnoreCase": {"acs:ResourceTag/env": ["ΟΔΟΣ", "abc"]}}}"#));
    for value in ["ΟΔΟΣ", "οδος", "ABC"] {
        let ctx = Context::new().with("acs:ResourceTag/env", value);
        let d = p.evaluate(&Request::new("ram:GetRole", "acs:ram::1:role/r", &ctx));
        assert!(d.is_explicit_deny(), "{value}: {d}");
    }
    let ctx = Context::new().with("acs:ResourceTag/env", "οδοι");
    assert!(p.evaluate(&Request::new("ram:GetRole", "acs:ram::1:role/r", &ctx)).is_allowed());
}
