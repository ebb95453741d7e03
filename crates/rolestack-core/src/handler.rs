//! What every API handler works with: [`Ctx`] — the call's open transaction, the authenticated
//! caller, the request's condition keys, the clock, the server key and the host's instance
//! network — and the handler signature
//! the action catalogue ([`crate::catalog`]) stores. Shared by every product's handlers (RAM, STS,
//! ECS, VPC, the admin API), so it belongs to none of them.

use rolestack_policy::Context;
use serde_json::Value;

use crate::caller::Caller;
use crate::clock::{format_date, Clock};
use crate::params::Params;
use crate::seal::ServerKey;
use crate::store::Tx;
use crate::Result;

/// An action's implementation: validates `Params`, works inside the transaction, returns the body.
pub type Handler = fn(&mut Ctx, &Params) -> Result<Value>;

/// What a handler works with: the open transaction, the authenticated caller, the clock and key.
pub struct Ctx<'a> {
    pub tx: &'a mut dyn Tx,
    pub caller: &'a Caller,
    /// The request's own condition keys (`acs:RequestedRegion`, `acs:RequestTag/<key>`, `ecs:*`,
    /// ...) exactly as the gateway built them for its check of the action.
    pub request: &'a Context,
    pub clock: &'a Clock,
    pub key: &'a ServerKey,
    pub network: &'a dyn crate::network::InstanceNetwork,
    /// ActionTrail events not yet in the store (LookupEvents merges them).
    pub audit: &'a crate::audit::AuditTrail,
    /// This node among the nodes of a shared store (instance placement, the shared clock).
    pub cluster: &'a crate::cluster::Cluster,
}

impl Ctx<'_> {
    pub fn account(&self) -> &str {
        &self.caller.account_id
    }
    pub fn now(&self) -> String {
        format_date(self.clock.now())
    }

    /// Authorizes one more action inside a handler (e.g. `ram:PassRole` on the role ECS is given),
    /// with the same rules and the same request condition keys as the gateway's check (keys of
    /// another service: see [`crate::authz::authorize_in_request`]). The account root is always
    /// allowed. Every resource must be allowed.
    pub fn authorize(&mut self, action: &str, resources: &[String]) -> Result<std::result::Result<(), crate::authz::Denial>> {
        crate::authz::authorize_in_request(self.tx, self.caller, action, resources, self.request)
    }

    /// [`Ctx::authorize`] of an implied action that has condition keys of its own (`extra`, over
    /// the request's).
    pub fn authorize_with(
        &mut self,
        action: &str,
        resources: &[String],
        extra: &Context,
    ) -> Result<std::result::Result<(), crate::authz::Denial>> {
        let mut request = self.request.clone();
        request.extend(extra);
        crate::authz::authorize_in_request(self.tx, self.caller, action, resources, &request)
    }
}
