//! The action catalogue: one row per API action, naming its product, the RAM action it needs, the
//! resources it touches (ARN templates over its parameters) and the handler. Dispatch, authorization
//! and the docs' coverage table all read this one table, so adding an API is one row plus one function.

use serde_json::Value;

use crate::handler::Ctx;
use crate::params::Params;
use crate::ram::policies::{self, Holder};
use crate::ram::{account, groups, login_profiles, mfa, password_policy, roles, service_linked_roles, tags, users};
use crate::{admin, ecs, federation, ims, sts, vpc, Result};

pub use crate::handler::Handler;
pub use crate::product::Product;

/// One API action.
pub struct ApiAction {
    pub product: Product,
    pub name: &'static str,
    /// The RAM action a RAM identity must be allowed (`ram:CreateRole`).
    pub ram_action: &'static str,
    /// Resource templates, relative to `acs:<service>:<region>:<account>:`. `{Param}` is the
    /// parameter's value (missing → `Missing<Param>`); `{Param?}` falls back to the caller's own user
    /// name; `{Param[]}` is one ARN per element of a JSON-array parameter (ECS `InstanceIds`);
    /// `@Param` means the parameter is the whole ARN; `?template` is authorized only when its
    /// parameters are given; `<service>:template` is another product's resource under its own ARN
    /// (`vpc:vswitch/{VSwitchId}` → `acs:vpc:<region>:<account>:vswitch/<id>`). No template: any
    /// authenticated caller may call.
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

macro_rules! vpc {
    ($name:literal, [$($res:literal),*], $handler:expr) => {
        ApiAction { product: Product::Vpc, name: $name, ram_action: concat!("vpc:", $name), resources: &[$($res),*], handler: $handler }
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
    // Diagnostics
    ram!("DecodeDiagnosticMessage", ["*"], crate::ram::diagnostics::decode_diagnostic_message),
    // ActionTrail
    ApiAction {
        product: Product::ActionTrail,
        name: "LookupEvents",
        ram_action: "actiontrail:LookupEvents",
        resources: &["*"],
        handler: crate::actiontrail::lookup_events,
    },
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
    // (the legacy CreateVSwitch is authorized on its VPC too, under the VPC product's ARN, as the
    // VPC product's CreateVSwitch is: docs/authorization.md)
    ecs!("CreateVSwitch", ["vpc:vpc/{VpcId}", "vswitch/*"], ecs::vpc::create_vswitch),
    ecs!("DescribeVSwitches", ["vswitch/*"], ecs::vpc::describe_vswitches),
    ecs!("DeleteVSwitch", ["vswitch/{VSwitchId}"], ecs::vpc::delete_vswitch),
    // Images and instance types
    ecs!("DescribeImages", ["image/*"], ecs::images::describe_images),
    ecs!("DescribeInstanceTypes", ["*"], ecs::catalogue::describe_instance_types),
    ecs!("DescribeInstanceTypeFamilies", ["*"], ecs::catalogue::describe_instance_type_families),
    // Security groups
    // (a group created in a VPC is authorized on the VPC too, `acs:vpc:...:vpc/<id>`, as ECS's
    // authorization table lists it)
    ecs!("CreateSecurityGroup", ["securitygroup/*", "?vpc:vpc/{VpcId}"], ecs::security_groups::create_security_group),
    ecs!("DescribeSecurityGroups", ["securitygroup/*"], ecs::security_groups::describe_security_groups),
    ecs!("DescribeSecurityGroupAttribute", ["securitygroup/{SecurityGroupId}"], ecs::security_groups::describe_security_group_attribute),
    ecs!("DeleteSecurityGroup", ["securitygroup/{SecurityGroupId}"], ecs::security_groups::delete_security_group),
    // (a rule naming another group as its source / destination is authorized on that group too)
    ecs!(
        "AuthorizeSecurityGroup",
        ["securitygroup/{SecurityGroupId}", "?securitygroup/{SourceGroupId}"],
        ecs::security_groups::authorize_security_group
    ),
    ecs!(
        "AuthorizeSecurityGroupEgress",
        ["securitygroup/{SecurityGroupId}", "?securitygroup/{DestGroupId}"],
        ecs::security_groups::authorize_security_group_egress
    ),
    ecs!("RevokeSecurityGroup", ["securitygroup/{SecurityGroupId}"], ecs::security_groups::revoke_security_group),
    ecs!("JoinSecurityGroup", ["instance/{InstanceId}", "securitygroup/{SecurityGroupId}"], ecs::security_groups::join_security_group),
    ecs!("LeaveSecurityGroup", ["instance/{InstanceId}", "securitygroup/{SecurityGroupId}"], ecs::security_groups::leave_security_group),
    // SSH key pairs (by name: acs:ecs:<RegionId>:<account>:keypair/<KeyPairName>)
    ecs!("CreateKeyPair", ["keypair/{KeyPairName}"], ecs::key_pairs::create_key_pair),
    ecs!("ImportKeyPair", ["keypair/{KeyPairName}"], ecs::key_pairs::import_key_pair),
    ecs!("DescribeKeyPairs", ["keypair/*"], ecs::key_pairs::describe_key_pairs),
    ecs!("DeleteKeyPairs", ["keypair/{KeyPairNames[]}"], ecs::key_pairs::delete_key_pairs),
    ecs!("AttachKeyPair", ["keypair/{KeyPairName}", "instance/{InstanceIds[]}"], ecs::key_pairs::attach_key_pair),
    ecs!("DetachKeyPair", ["keypair/{KeyPairName}", "instance/{InstanceIds[]}"], ecs::key_pairs::detach_key_pair),
    // Instances (the image, and a security group, vSwitch or key pair given at creation, are
    // authorized too, as ECS's authorization rules list them; every group a call reads is; the
    // vSwitch under the VPC product's ARN, `acs:vpc:...:vswitch/<id>`)
    ecs!(
        "CreateInstance",
        [
            "instance/*",
            "?image/{ImageId}",
            "?securitygroup/{SecurityGroupId}",
            "?securitygroup/{SecurityGroupIds.N}",
            "?vpc:vswitch/{VSwitchId}",
            "?keypair/{KeyPairName}"
        ],
        ecs::instances::create_instance
    ),
    ecs!(
        "RunInstances",
        [
            "instance/*",
            "?image/{ImageId}",
            "?securitygroup/{SecurityGroupId}",
            "?securitygroup/{SecurityGroupIds.N}",
            "?vpc:vswitch/{VSwitchId}",
            "?keypair/{KeyPairName}"
        ],
        ecs::instances::run_instances
    ),
    ecs!("DescribeInstanceAttribute", ["instance/{InstanceId}"], ecs::instances::describe_instance_attribute),
    ecs!(
        "ModifyInstanceAttribute",
        ["instance/{InstanceId}", "?securitygroup/{SecurityGroupId}", "?securitygroup/{SecurityGroupIds.N}"],
        ecs::instances::modify_instance_attribute
    ),
    ecs!("DescribeUserData", ["instance/{InstanceId}"], ecs::user_data::describe_user_data),
    ecs!("RebootInstance", ["instance/{InstanceId}"], ecs::instances::reboot_instance),
    ecs!("DescribeInstances", ["instance/*"], ecs::instances::describe_instances),
    ecs!("StartInstance", ["instance/{InstanceId}"], ecs::instances::start_instance),
    ecs!("StopInstance", ["instance/{InstanceId}"], ecs::instances::stop_instance),
    ecs!("DeleteInstance", ["instance/{InstanceId}"], ecs::instances::delete_instance),
    ecs!("ModifyInstanceMetadataOptions", ["instance/{InstanceId}"], ecs::instances::modify_instance_metadata_options),
    ecs!("AttachInstanceRamRole", ["instance/{InstanceIds[]}"], ecs::ram_roles::attach_instance_ram_role),
    ecs!("DetachInstanceRamRole", ["instance/{InstanceIds[]}"], ecs::ram_roles::detach_instance_ram_role),
    ecs!("DescribeInstanceRamRole", ["instance/*"], ecs::ram_roles::describe_instance_ram_role),
    // Disks and tags
    ecs!("DescribeDisks", ["disk/*"], ecs::disks::describe_disks),
    ecs!("TagResources", ["{ResourceType}/{ResourceId.N}"], ecs::tags::tag_resources),
    ecs!("UntagResources", ["{ResourceType}/{ResourceId.N}"], ecs::tags::untag_resources),
    ecs!("ListTagResources", ["{ResourceType}/*"], ecs::tags::list_tag_resources),
    // VPC 2016-04-28 (resources are relative to acs:vpc:<RegionId>:<account>:)
    vpc!("CreateVpc", ["vpc/*"], vpc::create_vpc),
    vpc!("DescribeVpcs", ["vpc/*"], vpc::describe_vpcs),
    vpc!("DescribeVpcAttribute", ["vpc/{VpcId}"], vpc::describe_vpc_attribute),
    vpc!("ModifyVpcAttribute", ["vpc/{VpcId}"], vpc::modify_vpc_attribute),
    vpc!("DeleteVpc", ["vpc/{VpcId}"], vpc::delete_vpc),
    vpc!("CreateVSwitch", ["vpc/{VpcId}", "vswitch/*"], vpc::create_vswitch),
    vpc!("DescribeVSwitches", ["vswitch/*"], vpc::describe_vswitches),
    vpc!("DescribeVSwitchAttributes", ["vswitch/{VSwitchId}"], vpc::describe_vswitch_attributes),
    vpc!("DeleteVSwitch", ["vswitch/{VSwitchId}"], vpc::delete_vswitch),
    // rolestack admin
    admin!("DescribeClock", ["*"], admin::describe_clock),
    admin!("AdvanceClock", ["*"], admin::advance_clock),
    admin!("RevokeRoleSessions", ["role/{RoleName}"], admin::revoke_role_sessions),
    admin!("PrepareInstanceEnvironment", ["instance/{InstanceId}"], admin::prepare_instance_environment),
    admin!("PrepareWorkstationEnvironment", ["*"], admin::prepare_workstation_environment),
    admin!("SimulatePolicy", ["*"], crate::simulator::simulate_policy),
    admin!("DescribeInstanceCredentials", ["instance/{InstanceId}"], admin::describe_instance_credentials),
    admin!("InjectInstanceFault", ["instance/{InstanceId}"], admin::inject_instance_fault),
    admin!("ClearInstanceFaults", ["instance/{InstanceId}"], admin::clear_instance_faults),
    admin!("DescribeInstanceFaults", ["instance/{InstanceId}"], admin::describe_instance_faults),
    admin!("ListInstanceEvents", ["instance/{InstanceId}"], admin::list_instance_events),
    admin!("RotateInstanceCredentials", ["instance/{InstanceId}"], admin::rotate_instance_credentials),
    admin!("ExpireInstanceCredentials", ["instance/{InstanceId}"], admin::expire_instance_credentials),
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

/// Actions named like reads that write: fetching an instance's credentials may rotate them. (The
/// other Get/List/Describe actions only read — also MFA, password policy, security preference,
/// GetAccessKeyLastUsed, tags, IMS providers and DescribeOidcIssuer; an AccessKey's last use is
/// recorded by the gateway in a write transaction of its own, never inside the call's.)
const READS_THAT_WRITE: &[&str] = &["DescribeInstanceCredentials"];

impl ApiAction {
    /// Whether the action may change state: it then runs in a read-write transaction (reads run
    /// in a read-only one that never waits for writers).
    pub fn writes(&self) -> bool {
        !crate::audit::is_read_action(self.name) || READS_THAT_WRITE.contains(&self.name)
    }
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
        for a in ANONYMOUS_ACTIONS {
            assert!(find(a.product, a.name).is_none(), "{} is both anonymous and signed", a.name);
        }
    }

    #[test]
    fn reads_run_read_only_and_the_rest_may_write() {
        for name in ["GetAccessKeyLastUsed", "ListVirtualMFADevices", "GetPasswordPolicy", "ListTagResources"] {
            assert!(!find(Product::Ram, name).unwrap().writes(), "{name}");
        }
        assert!(!find(Product::Ims, "ListOIDCProviders").unwrap().writes());
        assert!(!find(Product::Rolestack, "DescribeOidcIssuer").unwrap().writes());
        assert!(find(Product::Rolestack, "DescribeInstanceCredentials").unwrap().writes());
        assert!(find(Product::Ram, "BindMFADevice").unwrap().writes());
    }
}
