//! Collections' RPCs (`CollectionService`): requests to domain inputs, every broken field named
//! at once. What the schema states (required, dates, decimals, money, ids, lengths) is
//! INVALID_ARGUMENT here; what only the schedule can say (sums, a mix of percents and amounts,
//! the currency, what is refundable) is the service's refusal.

use crm_platform::{
    error::{Violations, optional_text, required_text},
    ids::parse_id,
    money::{Money, Sign},
};
use crm_proto::crm::opportunities::v1::{self as pb, collection_service_server::CollectionService};
use tonic::{Request, Response, Status};

use super::{
    authenticated,
    deal_input::{decimal, id, version},
};
use crate::{
    convert::collections as wire,
    domain::{
        collection::{InstalmentInput, Share},
        payment::PaymentMethod,
    },
    error::OpportunitiesError,
    service::{NewPayment, Opportunities, ReceivableFilter},
};

const MAX_INSTALMENTS: usize = 60;
const MAX_NOTE: usize = 500;
const MAX_REFERENCE: usize = 200;
const MAX_REASON: usize = 1000;

pub(crate) struct CollectionsApi {
    opportunities: Opportunities,
}

impl CollectionsApi {
    pub(crate) fn new(opportunities: Opportunities) -> Self {
        Self { opportunities }
    }
}

/// The instalments as given: each with a due date and exactly one of percent and amount.
fn instalments(
    violations: &mut Violations,
    inputs: &[pb::InstalmentInput],
) -> Vec<InstalmentInput> {
    if inputs.is_empty() {
        violations.add("instalments", "must have at least one instalment");
    }
    if inputs.len() > MAX_INSTALMENTS {
        violations.add(
            "instalments",
            format!("must have at most {MAX_INSTALMENTS} instalments"),
        );
    }
    inputs
        .iter()
        .enumerate()
        .filter_map(|(index, input)| {
            let at = format!("instalments[{index}]");
            let due_date = violations.date(&format!("{at}.due_date"), &input.due_date);
            let note = optional_text(violations, &format!("{at}.note"), &input.note, MAX_NOTE);
            let share = match (input.percent.trim().is_empty(), &input.amount) {
                (false, None) => decimal(violations, &format!("{at}.percent"), &input.percent)
                    .map(Share::Percent),
                (true, Some(amount)) => violations
                    .take(Money::parse(&format!("{at}.amount"), amount, Sign::Any))
                    .map(|money| Share::Amount(money.amount)),
                _ => {
                    // One of two fields is more than the schema states: a refusal (422).
                    violations.push(crm_platform::error::FieldViolation::refusal(
                        crm_platform::error::reasons::INCONSISTENT_FIELDS,
                        format!("{at}.percent"),
                        "give exactly one of percent and amount",
                    ));
                    None
                }
            };
            Some(InstalmentInput {
                due_date: due_date?,
                share: share?,
                note,
            })
        })
        .collect()
}

fn payment_method(value: i32) -> Result<PaymentMethod, OpportunitiesError> {
    Ok(match pb::PaymentMethod::try_from(value) {
        Ok(pb::PaymentMethod::Unspecified | pb::PaymentMethod::Other) => PaymentMethod::Other,
        Ok(pb::PaymentMethod::BankTransfer) => PaymentMethod::BankTransfer,
        Ok(pb::PaymentMethod::Card) => PaymentMethod::Card,
        Ok(pb::PaymentMethod::Cash) => PaymentMethod::Cash,
        Ok(pb::PaymentMethod::Cheque) => PaymentMethod::Cheque,
        Err(_) => {
            return Err(OpportunitiesError::invalid(
                "method",
                format!("{value} is not a payment method"),
            ));
        }
    })
}

fn required_money(
    violations: &mut Violations,
    field: &str,
    value: Option<&crm_proto::crm::common::v1::Money>,
) -> Option<Money> {
    match value {
        Some(value) => violations.take(Money::parse(field, value, Sign::Any)),
        None => {
            violations.add(field, "is required");
            None
        }
    }
}

#[tonic::async_trait]
impl CollectionService for CollectionsApi {
    async fn set_payment_schedule(
        &self,
        request: Request<pb::SetPaymentScheduleRequest>,
    ) -> Result<Response<pb::SetPaymentScheduleResponse>, Status> {
        let caller = authenticated(&request)?;
        let request = request.into_inner();
        let mut violations = Violations::new();
        let opportunity_id = violations.take(parse_id("opportunity_id", &request.opportunity_id));
        let order_id = violations.optional_id("order_id", &request.order_id);
        let inputs = instalments(&mut violations, &request.instalments);
        violations.into_result().map_err(OpportunitiesError::from)?;
        let expected = version(request.expected_version)?;
        let (schedule, payments) = self
            .opportunities
            .set_payment_schedule(
                &caller,
                opportunity_id.unwrap_or_default(),
                order_id,
                inputs,
                expected,
            )
            .await?;
        Ok(Response::new(pb::SetPaymentScheduleResponse {
            schedule: Some(wire::schedule(&schedule, &payments)),
        }))
    }

    async fn get_payment_schedule(
        &self,
        request: Request<pb::GetPaymentScheduleRequest>,
    ) -> Result<Response<pb::GetPaymentScheduleResponse>, Status> {
        let caller = authenticated(&request)?;
        let opportunity_id = id("opportunity_id", &request.get_ref().opportunity_id)?;
        let (schedule, payments) = self
            .opportunities
            .get_payment_schedule(&caller, opportunity_id)
            .await?;
        Ok(Response::new(pb::GetPaymentScheduleResponse {
            schedule: Some(wire::schedule(&schedule, &payments)),
        }))
    }

    async fn record_payment(
        &self,
        request: Request<pb::RecordPaymentRequest>,
    ) -> Result<Response<pb::RecordPaymentResponse>, Status> {
        let caller = authenticated(&request)?;
        let request = request.into_inner();
        let mut violations = Violations::new();
        let opportunity_id = violations.take(parse_id("opportunity_id", &request.opportunity_id));
        let payment_id = violations.take(parse_id("payment_id", &request.payment_id));
        let amount = required_money(&mut violations, "amount", request.amount.as_ref());
        let received_on = violations.optional_date("received_on", &request.received_on);
        let reference = optional_text(
            &mut violations,
            "reference",
            &request.reference,
            MAX_REFERENCE,
        );
        violations.into_result().map_err(OpportunitiesError::from)?;
        let method = payment_method(request.method)?;
        let (Some(opportunity_id), Some(payment_id), Some(amount)) =
            (opportunity_id, payment_id, amount)
        else {
            return Err(Status::internal("parsed request lost a field"));
        };
        let (schedule, payments, payment) = self
            .opportunities
            .record_payment(
                &caller,
                opportunity_id,
                NewPayment {
                    id: payment_id,
                    amount,
                    received_on,
                    method,
                    reference,
                },
            )
            .await?;
        Ok(Response::new(pb::RecordPaymentResponse {
            payment: Some(wire::payment(schedule.currency, &payment)),
            schedule: Some(wire::schedule(&schedule, &payments)),
        }))
    }

    async fn record_refund(
        &self,
        request: Request<pb::RecordRefundRequest>,
    ) -> Result<Response<pb::RecordRefundResponse>, Status> {
        let caller = authenticated(&request)?;
        let request = request.into_inner();
        let mut violations = Violations::new();
        let payment_id = violations.take(parse_id("payment_id", &request.payment_id));
        let amount = required_money(&mut violations, "amount", request.amount.as_ref());
        let reason = required_text(&mut violations, "reason", &request.reason, MAX_REASON);
        violations.into_result().map_err(OpportunitiesError::from)?;
        let (Some(payment_id), Some(amount)) = (payment_id, amount) else {
            return Err(Status::internal("parsed request lost a field"));
        };
        let (schedule, payments, payment) = self
            .opportunities
            .record_refund(&caller, payment_id, amount, reason)
            .await?;
        Ok(Response::new(pb::RecordRefundResponse {
            payment: Some(wire::payment(schedule.currency, &payment)),
            schedule: Some(wire::schedule(&schedule, &payments)),
        }))
    }

    async fn list_receivables(
        &self,
        request: Request<pb::ListReceivablesRequest>,
    ) -> Result<Response<pb::ListReceivablesResponse>, Status> {
        let caller = authenticated(&request)?;
        let request = request.into_inner();
        let mut violations = Violations::new();
        let as_of = violations.optional_date("as_of", &request.as_of);
        let owner_id = violations.optional_id("owner_id", &request.owner_id);
        let team_path = match request.team_path.trim() {
            "" => None,
            path => violations.check("team_path", crm_platform::auth::TeamPath::parse(path)),
        };
        violations.into_result().map_err(OpportunitiesError::from)?;
        let filter = ReceivableFilter {
            as_of,
            owner_id,
            team_path,
        };
        let listed = self
            .opportunities
            .list_receivables(&caller, &filter)
            .await?;
        Ok(Response::new(wire::receivables(&listed)))
    }
}
