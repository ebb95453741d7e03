//! rolestack-core: the domain of rolestack — accounts, RAM users, groups, roles and policies —, the
//! services that apply RAM's rules to them, authorization of every call, and the `Store` trait that
//! persists them. It knows nothing about HTTP: front-ends hand it a [`Caller`](caller::Caller) and a
//! [`Params`](params::Params) map and render what it returns.
//!
//! Map of the crate:
//! - [`model`]: the records (Account, AccessKey, User, Group, Role, ManagedPolicy, PolicyVersion).
//! - [`store`]: the transactional `Store`/`Tx` traits that SQLite and PostgreSQL implement.
//! - [`seal`]: authenticated encryption with the server key, so a copy of the database alone reveals no secret.
//! - [`caller`], [`authz`]: who is calling and whether their policies allow an action on a resource;
//!   [`names`]: the spellings of a named resource that authorization must allow.
//! - [`product`]: one table of product facts (version, RAM service, host, CLI/console name, error
//!   style); [`catalog`]: one table from API action to RAM action, resource ARNs and handler (and
//!   the anonymous STS actions); [`handler`]: the context every handler works with.
//! - [`ram`]: the RAM API 2015-05-01 handlers; [`sts`]: STS 2015-04-01 and sealed security tokens;
//!   [`ims`]: IMS 2019-08-15 identity providers; [`federation`]: AssumeRoleWithOIDC/SAML, with
//!   [`oidc`] (ID tokens, the local issuer) and [`saml`].
//! - [`ecs`]: ECS 2014-05-26 — catalogue, images, instance types, VPCs/vSwitches (legacy forms),
//!   security groups, instances, disks, tags and instance RAM roles; [`vpc`]: VPC 2016-04-28 over
//!   the same VPCs and vSwitches.
//! - [`metadata`]: instance-role credentials with rotation; [`network`]: the port to the host that
//!   gives instances their 100.100.100.200; [`admin`]: rolestack's own admin actions (clock, revocation).
//! - [`endpoints`]: Alibaba Cloud's service host names and what each one means.
//! - [`oss`]: the OSS object store (buckets, objects, multipart, bucket policies) and its authorization.
//! - [`audit`], [`actiontrail`]: ActionTrail events of every call and `LookupEvents`;
//!   [`diagnostics`]: the verdict behind every refusal (`AccessDeniedDetail`, DecodeDiagnosticMessage).
//! - [`cluster`]: what the nodes of a shared store agree on (server key, nodes, fake clock).
//! - [`error`]: the typed errors every handler returns; front-ends map them once to the wire.

#![recursion_limit = "256"]

pub mod actiontrail;
pub mod admin;
pub mod audit;
pub mod authz;

pub mod bootstrap;
pub mod cache;
pub mod caller;
pub mod catalog;
pub mod clock;
pub mod cluster;
#[cfg(feature = "store-conformance")]
pub mod conformance;
pub mod diagnostics;
pub mod documents;
pub mod ecs;
pub mod endpoints;
pub mod error;
pub mod fault;
pub mod federation;
pub mod group_commit;
pub mod handler;
pub mod ids;
pub mod ims;
pub mod metadata;
pub mod model;
pub mod names;
pub mod network;
pub mod oidc;
pub mod oss;
pub mod params;
pub mod product;
pub mod ram;
pub mod replay;
pub mod saml;
pub mod seal;
pub mod service;
pub mod simulator;
pub mod store;
pub mod sts;
pub mod vpc;

pub use error::{Error, Result};
