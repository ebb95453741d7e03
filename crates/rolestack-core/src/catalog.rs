//! The action catalogue: one row per API action, naming its product, the RAM action it needs, the
//! resources it touches (ARN templates over its parameters) and the handler. Dispatch, authorization
//! and the docs' coverage table all read this one table, so adding an API is one row plus one function.

use serde_json::Value;

use crate::params::Params;
use crate::ram::policies::{self, Holder};
use crate::ram::{account, groups, login_profiles, mfa, password_policy, roles, service_linked_roles, tags, users, Ctx};
use crate::{admin, ecs, federation, ims, sts, Result};

pub type Handler = fn(&mut Ctx, &Params) -> Result<Value>;

/// The RPC products rolestack serves, told apart by the `Version` parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Product {
    Ram,
    Sts,
    Ecs,
    /// rolestack's own admin API (see [`crate::admin`]).
    Rolestack,
    /// IMS 2019-08-15: the identity-provider half of RAM (OIDC and SAML providers, [`crate::ims`]).
    Ims,
}

impl Product {
    pub fn from_version(version: &str) -> Option<Product> {
        match version {
            "2015-05-01" => Some(Product::Ram),
            "2015-04-01" => Some(Product::Sts),
            "2014-05-26" => Some(Product::Ecs),
            crate::admin::VERSION => Some(Product::Rolestack),
            "2019-08-15" => Some(Product::Ims),
            _ => None,
        }
    }
    /// The service prefix of its RAM actions and ARNs (`ram:CreateRole`, `acs:ram:...`).
    pub fn service(self) -> &'static str {
        match self {
            Product::Ram => "ram",
            Product::Sts => "sts",
            Product::Ecs => "ecs",
            Product::Rolestack => "rolestack",
            // IMS actions are RAM actions (`ram:CreateOIDCProvider`) on RAM ARNs.
            Product::Ims => "ram",
        }
    }
    /// The public host name, reported as `HostId` in errors.
    pub fn host(self) -> &'static str {
        match self {
            Product::Ram => "ram.aliyuncs.com",
            Product::Sts => "sts.aliyuncs.com",
            Product::Ecs => "ecs.aliyuncs.com",
            Product::Rolestack => "rolestack.local",
            Product::Ims => "ims.aliyuncs.com",
        }
    }
}

/// One API action.
pub struct ApiAction {
    pub product: Product,
    pub name: &'static str,
    /// The RAM action a RAM identity must be allowed (`ram:CreateRole`).
    pub ram_action: &'static str,
    /// Resource templates, relative to `acs:<service>:<region>:<account>:`. `{Param}` is the
    /// parameter's value (missing → `Missing<Param>`); `{Param?}` falls back to the caller's own user
    /// name; `{Param[]}` is one ARN per element of a JSON-array parameter (ECS `InstanceIds`);
    /// `@Param` means the parameter is the whole ARN. No template: any authenticated caller may call.
    pub resources: &'static [&'static str],
    pub handler: Handler,
}

macro_rules! ram {
    ($name:literal, [$($res:literal),*], $handler:expr) => {
        ApiAction { product: Product::Ram, name: $name, ram_action: concat!("ram:", $name), resources: &[$($res),*], handler: $handler }
    };
}

macro_rules! ecs {
    ($name:literal, [$($res:literal),*], $handler:expr) => {
        ApiAction { product: Product::Ecs, name: $name, ram_action: concat!("ecs:", $name), resources: &[$($res),*], handler: $handler }
    };
}

macro_rules! ims {
    ($name:literal, [$($res:literal),*], $handler:expr) => {
        ApiAction { product: Product::Ims, name: $name, ram_action: concat!("ram:", $name), resources: &[$($res),*], handler: $handler }
    };
}

macro_rules! admin {
    ($name:literal, [$($res:literal),*], $handler:expr) => {
        ApiAction { product: Product::Rolestack, name: $name, ram_action: concat!("rolestack:", $name), resources: &[$($res),*], handler: $handler }
    };
}

fn attach_role(c: &mut Ctx, p: &Params) -> Result<Value> {
    policies::attach(c, p, Holder::Role)
}
fn attach_user(c: &mut Ctx, p: &Params) -> Result<Value> {
    policies::attach(c, p, Holder::User)
}
fn attach_group(c: &mut Ctx, p: &Params) -> Result<Value> {
    policies::attach(c, p, Holder::Group)
}
fn detach_role(c: &mut Ctx, p: &Params) -> Result<Value> {
    policies::detach(c, p, Holder::Role)
}
fn detach_user(c: &mut Ctx, p: &Params) -> Result<Value> {
    policies::detach(c, p, Holder::User)
}
fn detach_group(c: &mut Ctx, p: &Params) -> Result<Value> {
    policies::detach(c, p, Holder::Group)
}
fn list_for_role(c: &mut Ctx, p: &Params) -> Result<Value> {
    policies::list_for(c, p, Holder::Role)
}
fn list_for_user(c: &mut Ctx, p: &Params) -> Result<Value> {
    policies::list_for(c, p, Holder::User)
}
fn list_for_group(c: &mut Ctx, p: &Params) -> Result<Value> {
    policies::list_for(c, p, Holder::Group)
}

pub static ACTIONS: &[ApiAction] = &[
    // Roles
    ram!("CreateRole", ["role/{RoleName}"], roles::create_role),
    ram!("GetRole", ["role/{RoleName}"], roles::get_role),
    ram!("ListRoles", ["role/*"], roles::list_roles),
    ram!("UpdateRole", ["role/{RoleName}"], roles::update_role),
    ram!("DeleteRole", ["role/{RoleName}"], roles::delete_role),
    // Policies and versions
    ram!("CreatePolicy", ["policy/{PolicyName}"], policies::create_policy),
    ram!("GetPolicy", ["policy/{PolicyName}"], policies::get_policy),
    ram!("ListPolicies", ["policy/*"], policies::list_policies),
    ram!("DeletePolicy", ["policy/{PolicyName}"], policies::delete_policy),
    ram!("CreatePolicyVersion", ["policy/{PolicyName}"], policies::create_policy_version),
    ram!("GetPolicyVersion", ["policy/{PolicyName}"], policies::get_policy_version),
    ram!("ListPolicyVersions", ["policy/{PolicyName}"], policies::list_policy_versions),
    ram!("DeletePolicyVersion", ["policy/{PolicyName}"], policies::delete_policy_version),
    ram!("SetDefaultPolicyVersion", ["policy/{PolicyName}"], policies::set_default_policy_version),
    // Attachments
    ram!("AttachPolicyToRole", ["policy/{PolicyName}", "role/{RoleName}"], attach_role),
    ram!("DetachPolicyFromRole", ["policy/{PolicyName}", "role/{RoleName}"], detach_role),
    ram!("ListPoliciesForRole", ["role/{RoleName}"], list_for_role),
    ram!("AttachPolicyToUser", ["policy/{PolicyName}", "user/{UserName}"], attach_user),
    ram!("DetachPolicyFromUser", ["policy/{PolicyName}", "user/{UserName}"], detach_user),
    ram!("ListPoliciesForUser", ["user/{UserName}"], list_for_user),
    ram!("AttachPolicyToGroup", ["policy/{PolicyName}", "group/{GroupName}"], attach_group),
    ram!("DetachPolicyFromGroup", ["policy/{PolicyName}", "group/{GroupName}"], detach_group),
    ram!("ListPoliciesForGroup", ["group/{GroupName}"], list_for_group),
    ram!("ListEntitiesForPolicy", ["policy/{PolicyName}"], policies::list_entities_for_policy),
    // Users and AccessKeys
    ram!("CreateUser", ["user/{UserName}"], users::create_user),
    ram!("GetUser", ["user/{UserName}"], users::get_user),
    ram!("UpdateUser", ["user/{UserName}"], users::update_user),
    ram!("DeleteUser", ["user/{UserName}"], users::delete_user),
    ram!("ListUsers", ["user/*"], users::list_users),
    ram!("CreateAccessKey", ["user/{UserName?}"], users::create_access_key),
    ram!("UpdateAccessKey", ["user/{UserName?}"], users::update_access_key),
    ram!("DeleteAccessKey", ["user/{UserName?}"], users::delete_access_key),
    ram!("ListAccessKeys", ["user/{UserName?}"], users::list_access_keys),
    // Console logon profiles
    ram!("CreateLoginProfile", ["user/{UserName}"], login_profiles::create_login_profile),
    ram!("GetLoginProfile", ["user/{UserName}"], login_profiles::get_login_profile),
    ram!("UpdateLoginProfile", ["user/{UserName}"], login_profiles::update_login_profile),
    ram!("DeleteLoginProfile", ["user/{UserName}"], login_profiles::delete_login_profile),
    // Groups
    ram!("CreateGroup", ["group/{GroupName}"], groups::create_group),
    ram!("GetGroup", ["group/{GroupName}"], groups::get_group),
    ram!("UpdateGroup", ["group/{GroupName}"], groups::update_group),
    ram!("DeleteGroup", ["group/{GroupName}"], groups::delete_group),
    ram!("ListGroups", ["group/*"], groups::list_groups),
    ram!("AddUserToGroup", ["group/{GroupName}", "user/{UserName}"], groups::add_user_to_group),
    ram!("RemoveUserFromGroup", ["group/{GroupName}", "user/{UserName}"], groups::remove_user_from_group),
    ram!("ListGroupsForUser", ["user/{UserName}"], groups::list_groups_for_user),
    ram!("ListUsersForGroup", ["group/{GroupName}"], groups::list_users_for_group),
    // Account
    ram!("GetAccountAlias", ["*"], account::get_account_alias),
    ram!("SetAccountAlias", ["*"], account::set_account_alias),
    ram!("ClearAccountAlias", ["*"], account::clear_account_alias),
    // MFA (issue 18). `{UserName?}`: the calling RAM user when UserName is absent.
    ram!("CreateVirtualMFADevice", ["mfa/{VirtualMFADeviceName}"], mfa::create_virtual_mfa_device),
    ram!("DeleteVirtualMFADevice", ["mfa/{SerialNumber}"], mfa::delete_virtual_mfa_device),
    ram!("ListVirtualMFADevices", ["mfa/*"], mfa::list_virtual_mfa_devices),
    ram!("BindMFADevice", ["user/{UserName?}"], mfa::bind_mfa_device),
    ram!("UnbindMFADevice", ["user/{UserName?}"], mfa::unbind_mfa_device),
    ram!("GetUserMFAInfo", ["user/{UserName?}"], mfa::get_user_mfa_info),
    // Password policy and security preference
    ram!("ChangePassword", ["user/{UserName?}"], password_policy::change_password),
    ram!("GetPasswordPolicy", ["*"], password_policy::get_password_policy),
    ram!("SetPasswordPolicy", ["*"], password_policy::set_password_policy),
    ram!("GetSecurityPreference", ["*"], password_policy::get_security_preference),
    ram!("SetSecurityPreference", ["*"], password_policy::set_security_preference),
    ram!("GetAccessKeyLastUsed", ["user/{UserName?}"], users::get_access_key_last_used),
    ram!("UpdatePolicyDescription", ["policy/{PolicyName}"], policies::update_policy_description),
    // Service-linked roles (the role's name comes from the service's template)
    ram!("CreateServiceLinkedRole", ["role/*"], service_linked_roles::create_service_linked_role),
    ram!("DeleteServiceLinkedRole", ["role/{RoleName}"], service_linked_roles::delete_service_linked_role),
    ram!("GetServiceLinkedRoleTemplate", ["*"], service_linked_roles::get_service_linked_role_template),
    // Tags on roles and policies: `{ResourceType}` is `role` or `policy`
    ram!("TagResources", ["{ResourceType}/{ResourceNames[]}"], tags::tag_resources),
    ram!("UntagResources", ["{ResourceType}/{ResourceNames[]}"], tags::untag_resources),
    ram!("ListTagResources", ["*"], tags::list_tag_resources),
    // STS
    ApiAction {
        product: Product::Sts,
        name: "AssumeRole",
        ram_action: "sts:AssumeRole",
        resources: &["@RoleArn"],
        handler: sts::assume_role,
    },
    ApiAction {
        product: Product::Sts,
        name: "GetCallerIdentity",
        ram_action: "sts:GetCallerIdentity",
        resources: &[],
        handler: sts::get_caller_identity,
    },
    // IMS identity providers (OIDC and SAML)
    ims!("CreateOIDCProvider", ["oidc-provider/{OIDCProviderName}"], ims::create_oidc_provider),
    ims!("GetOIDCProvider", ["oidc-provider/{OIDCProviderName}"], ims::get_oidc_provider),
    ims!("ListOIDCProviders", ["oidc-provider/*"], ims::list_oidc_providers),
    ims!("UpdateOIDCProvider", ["oidc-provider/{OIDCProviderName}"], ims::update_oidc_provider),
    ims!("DeleteOIDCProvider", ["oidc-provider/{OIDCProviderName}"], ims::delete_oidc_provider),
    ims!("AddClientIdToOIDCProvider", ["oidc-provider/{OIDCProviderName}"], ims::add_client_id),
    ims!("RemoveClientIdFromOIDCProvider", ["oidc-provider/{OIDCProviderName}"], ims::remove_client_id),
    ims!("AddFingerprintToOIDCProvider", ["oidc-provider/{OIDCProviderName}"], ims::add_fingerprint),
    ims!("RemoveFingerprintFromOIDCProvider", ["oidc-provider/{OIDCProviderName}"], ims::remove_fingerprint),
    ims!("CreateSAMLProvider", ["saml-provider/{SAMLProviderName}"], ims::create_saml_provider),
    ims!("GetSAMLProvider", ["saml-provider/{SAMLProviderName}"], ims::get_saml_provider),
    ims!("ListSAMLProviders", ["saml-provider/*"], ims::list_saml_providers),
    ims!("UpdateSAMLProvider", ["saml-provider/{SAMLProviderName}"], ims::update_saml_provider),
    ims!("DeleteSAMLProvider", ["saml-provider/{SAMLProviderName}"], ims::delete_saml_provider),
    // ECS (resources are relative to acs:ecs:<RegionId>:<account>:)
    ecs!("DescribeRegions", ["*"], ecs::catalogue::describe_regions),
    ecs!("DescribeZones", ["*"], ecs::catalogue::describe_zones),
    ecs!("CreateVpc", ["vpc/*"], ecs::vpc::create_vpc),
    ecs!("DescribeVpcs", ["vpc/*"], ecs::vpc::describe_vpcs),
    ecs!("DeleteVpc", ["vpc/{VpcId}"], ecs::vpc::delete_vpc),
    ecs!("CreateVSwitch", ["vswitch/*"], ecs::vpc::create_vswitch),
    ecs!("DescribeVSwitches", ["vswitch/*"], ecs::vpc::describe_vswitches),
    ecs!("DeleteVSwitch", ["vswitch/{VSwitchId}"], ecs::vpc::delete_vswitch),
    ecs!("CreateInstance", ["instance/*"], ecs::instances::create_instance),
    ecs!("RunInstances", ["instance/*"], ecs::instances::run_instances),
    ecs!("DescribeInstances", ["instance/*"], ecs::instances::describe_instances),
    ecs!("StartInstance", ["instance/{InstanceId}"], ecs::instances::start_instance),
    ecs!("StopInstance", ["instance/{InstanceId}"], ecs::instances::stop_instance),
    ecs!("DeleteInstance", ["instance/{InstanceId}"], ecs::instances::delete_instance),
    ecs!("ModifyInstanceMetadataOptions", ["instance/{InstanceId}"], ecs::instances::modify_instance_metadata_options),
    ecs!("AttachInstanceRamRole", ["instance/{InstanceIds[]}"], ecs::ram_roles::attach_instance_ram_role),
    ecs!("DetachInstanceRamRole", ["instance/{InstanceIds[]}"], ecs::ram_roles::detach_instance_ram_role),
    ecs!("DescribeInstanceRamRole", ["instance/*"], ecs::ram_roles::describe_instance_ram_role),
    // rolestack admin
    admin!("DescribeClock", ["*"], admin::describe_clock),
    admin!("AdvanceClock", ["*"], admin::advance_clock),
    admin!("RevokeRoleSessions", ["role/{RoleName}"], admin::revoke_role_sessions),
    admin!("PrepareInstanceEnvironment", ["instance/{InstanceId}"], admin::prepare_instance_environment),
    admin!("PrepareWorkstationEnvironment", ["*"], admin::prepare_workstation_environment),
    admin!("DescribeInstanceCredentials", ["instance/{InstanceId}"], admin::describe_instance_credentials),
    admin!("DescribeOidcIssuer", ["*"], crate::oidc::describe_oidc_issuer),
    admin!("IssueOidcToken", ["*"], crate::oidc::issue_oidc_token),
];

/// An action called without credentials: STS AssumeRoleWithOIDC / AssumeRoleWithSAML, whose
/// request carries its own proof (a token or assertion the role's trust policy must accept).
pub struct AnonymousAction {
    pub product: Product,
    pub name: &'static str,
    /// The action a trust policy must allow (`sts:AssumeRoleWithOIDC`).
    pub ram_action: &'static str,
    pub handler: federation::Handler,
}

pub static ANONYMOUS_ACTIONS: &[AnonymousAction] = &[
    AnonymousAction {
        product: Product::Sts,
        name: "AssumeRoleWithOIDC",
        ram_action: "sts:AssumeRoleWithOIDC",
        handler: federation::assume_role_with_oidc,
    },
    AnonymousAction {
        product: Product::Sts,
        name: "AssumeRoleWithSAML",
        ram_action: "sts:AssumeRoleWithSAML",
        handler: federation::assume_role_with_saml,
    },
];

/// Finds an anonymous action of a product by its exact name.
pub fn find_anonymous(product: Product, name: &str) -> Option<&'static AnonymousAction> {
    ANONYMOUS_ACTIONS.iter().find(|a| a.product == product && a.name == name)
}

/// Finds an action of a product by its exact name.
pub fn find(product: Product, name: &str) -> Option<&'static ApiAction> {
    ACTIONS.iter().find(|a| a.product == product && a.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_per_product() {
        for (i, a) in ACTIONS.iter().enumerate() {
            assert!(ACTIONS[i + 1..].iter().all(|b| b.product != a.product || b.name != a.name), "{}", a.name);
            assert!(a.ram_action.ends_with(a.name));
        }
    }
}
