//! RAM `DecodeDiagnosticMessage`: opens the `EncodedDiagnosticMessage` a refusal carried (see
//! [`crate::diagnostics`]). Only a caller of the account whose policies decided may read it — any
//! other caller, and any altered message, gets the same `InvalidParameter.EncodedDiagnosticMessage`,
//! so the answer reveals nothing about messages of other accounts.

use serde_json::{json, Value};

use crate::diagnostics::Verdict;
use crate::handler::Ctx;
use crate::params::Params;
use crate::Result;

pub fn decode_diagnostic_message(ctx: &mut Ctx, p: &Params) -> Result<Value> {
    let encoded = p.required("EncodedDiagnosticMessage")?;
    let verdict = Verdict::decode(ctx.key, encoded)?;
    if verdict.account != ctx.account() {
        return Err(Verdict::decode_refusal());
    }
    Ok(json!({ "DecodedDiagnosticMessage": verdict.decoded() }))
}
