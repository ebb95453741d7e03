//! The built-in system policies. They belong to no account, can be attached by every account, and
//! cannot be changed or deleted. Documents follow the real ones' intent (service-wide grants).

/// One system policy: name, description, document.
pub struct SystemPolicy {
    pub name: &'static str,
    pub description: &'static str,
    pub document: &'static str,
}

/// The date every system policy reports as created/updated.
pub const SYSTEM_POLICY_DATE: &str = "2015-04-28T16:00:00Z";

pub const SYSTEM_POLICIES: &[SystemPolicy] = &[
    SystemPolicy {
        name: "AdministratorAccess",
        description: "管理所有阿里云资源的权限",
        document: r#"{"Version":"1","Statement":[{"Action":"*","Effect":"Allow","Resource":"*"}]}"#,
    },
    SystemPolicy {
        name: "AliyunActionTrailFullAccess",
        description: "管理操作审计(ActionTrail)的权限",
        document: r#"{"Version":"1","Statement":[{"Action":"actiontrail:*","Resource":"*","Effect":"Allow"}]}"#,
    },
    SystemPolicy {
        name: "AliyunActionTrailReadOnlyAccess",
        description: "只读访问操作审计(ActionTrail)的权限",
        document: r#"{"Version":"1","Statement":[{"Action":["actiontrail:Describe*","actiontrail:Get*","actiontrail:Lookup*","actiontrail:List*"],"Resource":"*","Effect":"Allow"}]}"#,
    },
    SystemPolicy {
        name: "AliyunECSFullAccess",
        description: "管理云服务器服务(ECS)的权限",
        document: r#"{"Version":"1","Statement":[{"Action":"ecs:*","Resource":"*","Effect":"Allow"},{"Action":["vpc:DescribeVpcs","vpc:DescribeVSwitches"],"Resource":"*","Effect":"Allow"}]}"#,
    },
    SystemPolicy {
        name: "AliyunECSReadOnlyAccess",
        description: "只读访问云服务器服务(ECS)的权限",
        document: r#"{"Version":"1","Statement":[{"Action":"ecs:Describe*","Resource":"*","Effect":"Allow"},{"Action":["vpc:DescribeVpcs","vpc:DescribeVSwitches"],"Resource":"*","Effect":"Allow"}]}"#,
    },
    SystemPolicy {
        name: "AliyunOSSFullAccess",
        description: "管理对象存储服务(OSS)权限",
        document: r#"{"Version":"1","Statement":[{"Action":"oss:*","Effect":"Allow","Resource":"*"}]}"#,
    },
    SystemPolicy {
        name: "AliyunOSSReadOnlyAccess",
        description: "只读访问对象存储服务(OSS)的权限",
        document: r#"{"Version":"1","Statement":[{"Action":["oss:Get*","oss:List*"],"Effect":"Allow","Resource":"*"}]}"#,
    },
    SystemPolicy {
        name: "AliyunRAMFullAccess",
        description: "管理访问控制(RAM)的权限，即管理用户以及授权的权限",
        document: r#"{"Version":"1","Statement":[{"Action":"ram:*","Resource":"*","Effect":"Allow"}]}"#,
    },
    SystemPolicy {
        name: "AliyunRAMReadOnlyAccess",
        description: "只读访问访问控制(RAM)的权限，即查看用户、组以及授权信息的权限",
        document: r#"{"Version":"1","Statement":[{"Action":["ram:Get*","ram:List*"],"Resource":"*","Effect":"Allow"}]}"#,
    },
    SystemPolicy {
        name: "AliyunSTSAssumeRoleAccess",
        description: "调用STS服务AssumeRole接口的权限",
        document: r#"{"Version":"1","Statement":[{"Action":"sts:AssumeRole","Effect":"Allow","Resource":"*"}]}"#,
    },
    // The policies of service-linked roles (`ram::service_linked_roles`). ECS archiving's is the
    // document the ECS service-linked role page publishes; the others are UNVERIFIED.
    SystemPolicy {
        name: "AliyunServiceRolePolicyForActionTrail",
        description: "操作审计（ActionTrail）服务关联角色的权限策略",
        document: r#"{"Version":"1","Statement":[{"Action":["oss:PutObject","oss:GetBucketInfo","log:PostLogStoreLogs","log:GetProject","log:GetLogStore"],"Resource":"*","Effect":"Allow"},{"Action":"ram:DeleteServiceLinkedRole","Resource":"*","Effect":"Allow","Condition":{"StringEquals":{"ram:ServiceName":"actiontrail.aliyuncs.com"}}}]}"#,
    },
    SystemPolicy {
        name: "AliyunServiceRolePolicyForECSArchiving",
        description: "云服务器ECS云助手投递服务关联角色的权限策略",
        document: r#"{"Version":"1","Statement":[{"Action":["oss:PutObject","oss:GetBucketInfo","log:GetProject","log:GetLogStore","log:CreateLogStore","log:PostLogStoreLogs","log:GetIndex","log:CreateIndex"],"Resource":"*","Effect":"Allow"},{"Action":"ram:DeleteServiceLinkedRole","Resource":"*","Effect":"Allow","Condition":{"StringEquals":{"ram:ServiceName":"archiving.ecs.aliyuncs.com"}}}]}"#,
    },
];

/// Looks a system policy up by name, ignoring case as RAM does.
pub fn find(name: &str) -> Option<&'static SystemPolicy> {
    SYSTEM_POLICIES.iter().find(|p| p.name.eq_ignore_ascii_case(name))
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_system_policy_parses() {
        for p in super::SYSTEM_POLICIES {
            crate::documents::validate_permission_policy("PolicyDocument", p.document).unwrap_or_else(|e| panic!("{}: {e}", p.name));
        }
    }
}
