//! The RPC products rolestack serves, and every fact about each in one row of [`PRODUCTS`]: the
//! `Version` that selects it, the RAM service prefix of its actions and ARNs, the public host its
//! errors name, the name the console bridge and the CLI use, which of its actions the console
//! bridge serves ([`ConsoleAccess`]), whether its ARNs carry the request's `RegionId`, and how it
//! words its generic errors ([`ErrorStyle`]). Dispatch (gateway, console,
//! CLI), authorization and error rendering all read this table instead of matching on products.

use crate::authz::Denial;
use crate::diagnostics::AccessDeniedDetail;
use crate::seal::ServerKey;
use crate::Error;

/// The RPC products, told apart by the `Version` parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Product {
    Ram,
    Sts,
    Ecs,
    /// VPC 2016-04-28: the same VPCs and vSwitches ECS's legacy actions see.
    Vpc,
    /// ActionTrail 2020-07-06: the audit trail (see [`crate::actiontrail`]).
    ActionTrail,
    /// rolestack's own admin API (see [`crate::admin`]).
    Rolestack,
    /// IMS 2019-08-15: the identity-provider half of RAM (OIDC and SAML providers, [`crate::ims`]).
    Ims,
}

/// How a product words the errors every action can produce.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorStyle {
    /// RAM and STS (and rolestack's admin API): `Missing<Name>`, `InvalidParameter.<Name>`, and a
    /// denial is `NoPermission` (403).
    Ram,
    /// ECS and VPC: `MissingParameter` and `InvalidParameter` naming the parameter in the message,
    /// and a denial is `Forbidden.RAM` (403).
    Ecs,
}

impl ErrorStyle {
    /// A required parameter is absent (or empty).
    pub fn missing(self, name: &str) -> Error {
        match self {
            ErrorStyle::Ram => Error::MissingParameter(name.to_string()),
            ErrorStyle::Ecs => Error::service(
                400,
                "MissingParameter",
                format!("The input parameter \"{name}\" that is mandatory for processing this request is not supplied."),
            ),
        }
    }

    /// A parameter has a value of the wrong form; `expected` says what was wanted.
    pub fn invalid(self, name: &str, expected: &str, got: &str) -> Error {
        match self {
            ErrorStyle::Ram => {
                Error::invalid(format!("InvalidParameter.{name}"), format!("The parameter \"{name}\" must be {expected}, got \"{got}\"."))
            }
            ErrorStyle::Ecs => Error::service(
                400,
                "InvalidParameter",
                format!("The specified parameter \"{name}\" is not valid: expected {expected}, got \"{got}\"."),
            ),
        }
    }

    /// The caller's policies do not allow the action; the verdict is sealed with `key` into the
    /// error's `AccessDeniedDetail`.
    pub fn denied(self, d: Denial, key: &ServerKey) -> Error {
        let detail = AccessDeniedDetail::new(d.verdict, key);
        match self {
            ErrorStyle::Ram => Error::no_permission(detail, &d.reason),
            ErrorStyle::Ecs => Error::forbidden_ram(detail, &d.reason),
        }
    }
}

/// Which of a product's actions the console bridge (`/console/api/<name>/<Action>`) serves. Every
/// call it serves still goes through `Rolestack::call`, authorized like any other.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConsoleAccess {
    /// None: the product is for the CLI and the SDKs only.
    No,
    /// Every catalogued action.
    All,
    /// Only these actions (exact names): the ones the console's pages use.
    Only(&'static [&'static str]),
}

impl ConsoleAccess {
    /// Whether the bridge serves `action` (an exact catalogue name).
    pub fn serves(self, action: &str) -> bool {
        match self {
            ConsoleAccess::No => false,
            ConsoleAccess::All => true,
            ConsoleAccess::Only(names) => names.contains(&action),
        }
    }

    /// Whether the bridge serves any action of the product.
    pub fn any(self) -> bool {
        !matches!(self, ConsoleAccess::No | ConsoleAccess::Only([]))
    }
}

/// Everything about one product.
#[derive(Debug)]
pub struct ProductSpec {
    pub product: Product,
    /// The API version (`Version` / `x-acs-version`).
    pub version: &'static str,
    /// The prefix of its RAM actions and ARNs (`ecs:RunInstances`, `acs:ecs:...`).
    pub service: &'static str,
    /// The public host name, reported as `HostId` in errors.
    pub host: &'static str,
    /// The lower-case name the CLI (`rolestack api <name> ...`) and the console bridge
    /// (`/console/api/<name>/<Action>`) use.
    pub name: &'static str,
    /// Which of its actions the console bridge serves (of the admin API, only the Policy
    /// Simulator's `SimulatePolicy`).
    pub console: ConsoleAccess,
    /// Whether its ARNs carry the request's `RegionId` (`acs:ecs:cn-hangzhou:...`) rather than `*`.
    pub regional: bool,
    pub errors: ErrorStyle,
}

pub static PRODUCTS: &[ProductSpec] = &[
    ProductSpec {
        product: Product::Ram,
        version: "2015-05-01",
        service: "ram",
        host: "ram.aliyuncs.com",
        name: "ram",
        console: ConsoleAccess::All,
        regional: false,
        errors: ErrorStyle::Ram,
    },
    ProductSpec {
        product: Product::Sts,
        version: "2015-04-01",
        service: "sts",
        host: "sts.aliyuncs.com",
        name: "sts",
        console: ConsoleAccess::All,
        regional: false,
        errors: ErrorStyle::Ram,
    },
    ProductSpec {
        product: Product::Ecs,
        version: "2014-05-26",
        service: "ecs",
        host: "ecs.aliyuncs.com",
        name: "ecs",
        console: ConsoleAccess::All,
        regional: true,
        errors: ErrorStyle::Ecs,
    },
    ProductSpec {
        product: Product::Vpc,
        version: "2016-04-28",
        service: "vpc",
        host: "vpc.aliyuncs.com",
        name: "vpc",
        console: ConsoleAccess::All,
        regional: true,
        errors: ErrorStyle::Ecs,
    },
    ProductSpec {
        product: Product::ActionTrail,
        version: "2020-07-06",
        service: "actiontrail",
        host: "actiontrail.cn-hangzhou.aliyuncs.com",
        name: "actiontrail",
        console: ConsoleAccess::All,
        regional: false,
        errors: ErrorStyle::Ram,
    },
    ProductSpec {
        product: Product::Rolestack,
        version: crate::admin::VERSION,
        service: "rolestack",
        host: "rolestack.local",
        name: "rolestack",
        console: ConsoleAccess::Only(&[
            "SimulatePolicy",
            "InjectInstanceFault",
            "ClearInstanceFaults",
            "DescribeInstanceFaults",
            "ListInstanceEvents",
            "RotateInstanceCredentials",
            "ExpireInstanceCredentials",
        ]),
        regional: false,
        errors: ErrorStyle::Ram,
    },
    ProductSpec {
        product: Product::Ims,
        version: "2019-08-15",
        // IMS actions are RAM actions (`ram:CreateOIDCProvider`) on RAM ARNs.
        service: "ram",
        host: "ims.aliyuncs.com",
        name: "ims",
        // No console page manages identity providers (the SDKs and the CLI do).
        console: ConsoleAccess::No,
        regional: false,
        errors: ErrorStyle::Ram,
    },
];

impl Product {
    pub fn spec(self) -> &'static ProductSpec {
        PRODUCTS.iter().find(|s| s.product == self).expect("every product has a row in PRODUCTS")
    }
    pub fn from_version(version: &str) -> Option<Product> {
        PRODUCTS.iter().find(|s| s.version == version).map(|s| s.product)
    }
    /// By the CLI/console name, in any letter case.
    pub fn from_name(name: &str) -> Option<Product> {
        PRODUCTS.iter().find(|s| s.name.eq_ignore_ascii_case(name)).map(|s| s.product)
    }
    /// The service prefix of its RAM actions and ARNs (`ram:CreateRole`, `acs:ram:...`).
    pub fn service(self) -> &'static str {
        self.spec().service
    }
    /// The public host name, reported as `HostId` in errors.
    pub fn host(self) -> &'static str {
        self.spec().host
    }
    pub fn errors(self) -> ErrorStyle {
        self.spec().errors
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_row_per_product_with_unique_keys() {
        for p in [Product::Ram, Product::Sts, Product::Ecs, Product::Vpc, Product::ActionTrail, Product::Rolestack, Product::Ims] {
            assert_eq!(p.spec().product, p);
            assert_eq!(Product::from_version(p.spec().version), Some(p));
            assert_eq!(Product::from_name(&p.spec().name.to_uppercase()), Some(p));
        }
        assert_eq!(PRODUCTS.len(), 7);
        assert_eq!((Product::Ims.service(), Product::Ims.host()), ("ram", "ims.aliyuncs.com"));
        assert_eq!(Product::Vpc.host(), "vpc.aliyuncs.com");
        assert_eq!(Product::from_version("2099-01-01"), None);
    }

    #[test]
    fn the_console_serves_only_the_admin_actions_it_needs() {
        assert!(Product::Ram.spec().console.serves("CreateRole"));
        assert!(Product::ActionTrail.spec().console.serves("LookupEvents"));
        assert!(!Product::Ims.spec().console.any());
        let admin = Product::Rolestack.spec().console;
        assert!(admin.any() && admin.serves("SimulatePolicy") && admin.serves("InjectInstanceFault"));
        for action in ["AdvanceClock", "RevokeRoleSessions", "PrepareInstanceEnvironment", "DescribeInstanceCredentials", "simulatepolicy"]
        {
            assert!(!admin.serves(action), "{action}");
        }
        assert!(!ConsoleAccess::No.any() && !ConsoleAccess::Only(&[]).any());
    }

    #[test]
    fn styles_word_errors_their_own_way() {
        assert_eq!(ErrorStyle::Ram.missing("RoleName").code(), "MissingRoleName");
        let e = ErrorStyle::Ecs.missing("RegionId");
        assert_eq!((e.code().as_str(), e.http_status()), ("MissingParameter", 400));
        assert!(e.public_message().contains("\"RegionId\""));
        assert_eq!(ErrorStyle::Ram.invalid("MaxItems", "an integer", "x").code(), "InvalidParameter.MaxItems");
        assert_eq!(ErrorStyle::Ecs.invalid("PageSize", "an integer", "x").code(), "InvalidParameter");
    }
}
