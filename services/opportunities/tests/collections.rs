//! Collections (`CollectionService`): a won deal's 30/70 schedule off its order to the cent,
//! payments partial, over and refunded, replacement, the refusals naming their fields, and who
//! reads and who records — over a real tonic client against real PostgreSQL and NATS.

mod support;

use crm_platform::auth::Caller;
use crm_proto::crm::opportunities::v1::{
    self as pb, collection_service_client::CollectionServiceClient,
};
use crm_test_support::user;
use support::{
    desk::{Desk, amount},
    *,
};
use tonic::{Code, Status, transport::Channel};
use uuid::Uuid;

const WON_FOR_PRICE: &str = "01900000-0000-7000-8000-000000000102";

struct Collections {
    desk: Desk,
    client: CollectionServiceClient<Channel>,
}

fn by_percent(percents: &[&str]) -> Vec<pb::InstalmentInput> {
    percents
        .iter()
        .zip(1..)
        .map(|(percent, months)| pb::InstalmentInput {
            due_date: day(30 * months),
            percent: (*percent).into(),
            ..Default::default()
        })
        .collect()
}

impl Collections {
    async fn open() -> Self {
        let desk = Desk::open().await;
        let client = CollectionServiceClient::new(desk.harness.app.channel().await);
        Self { desk, client }
    }

    async fn win(&self, deal_id: &str) {
        let win = pb::MarkWonRequest {
            opportunity_id: deal_id.into(),
            close_reason_id: WON_FOR_PRICE.into(),
            ..Default::default()
        };
        let request = self.desk.harness.request(&self.desk.ravi, win);
        self.desk
            .harness
            .deals
            .clone()
            .mark_won(request)
            .await
            .unwrap();
    }

    async fn schedule(
        &self,
        caller: &Caller,
        deal_id: &str,
        order_id: &str,
        instalments: Vec<pb::InstalmentInput>,
    ) -> Result<pb::PaymentSchedule, Status> {
        let request = pb::SetPaymentScheduleRequest {
            opportunity_id: deal_id.into(),
            order_id: order_id.into(),
            instalments,
            expected_version: 0,
        };
        let request = self.desk.harness.request(caller, request);
        let response = self.client.clone().set_payment_schedule(request).await?;
        Ok(response.into_inner().schedule.unwrap())
    }

    async fn pay(
        &self,
        caller: &Caller,
        payment_id: Uuid,
        value: &str,
    ) -> Result<pb::RecordPaymentResponse, Status> {
        let request = pb::RecordPaymentRequest {
            opportunity_id: self.desk.deal_id.clone(),
            payment_id: payment_id.to_string(),
            amount: money("CNY", value),
            received_on: day(0),
            method: pb::PaymentMethod::BankTransfer.into(),
            reference: "TT-0001".into(),
        };
        let request = self.desk.harness.request(caller, request);
        Ok(self
            .client
            .clone()
            .record_payment(request)
            .await?
            .into_inner())
    }

    async fn refund(
        &self,
        caller: &Caller,
        payment_id: Uuid,
        value: &str,
    ) -> Result<pb::RecordRefundResponse, Status> {
        let request = pb::RecordRefundRequest {
            payment_id: payment_id.to_string(),
            amount: money("CNY", value),
            reason: "returned one robot cell".into(),
        };
        let request = self.desk.harness.request(caller, request);
        Ok(self
            .client
            .clone()
            .record_refund(request)
            .await?
            .into_inner())
    }

    async fn get(&self, caller: &Caller, deal_id: &str) -> Result<pb::PaymentSchedule, Status> {
        let request = pb::GetPaymentScheduleRequest {
            opportunity_id: deal_id.into(),
        };
        let request = self.desk.harness.request(caller, request);
        let response = self.client.clone().get_payment_schedule(request).await?;
        Ok(response.into_inner().schedule.unwrap())
    }
}

/// (amount, paid, open) of each instalment.
fn figures(schedule: &pb::PaymentSchedule) -> Vec<(String, String, String)> {
    schedule
        .instalments
        .iter()
        .map(|i| (amount(&i.amount), amount(&i.paid), amount(&i.open)))
        .collect()
}

/// (total, paid, open, overpaid).
fn totals(schedule: &pb::PaymentSchedule) -> Vec<String> {
    let totals = schedule.totals.clone().unwrap();
    vec![
        amount(&totals.total),
        amount(&totals.paid),
        amount(&totals.open),
        amount(&totals.overpaid),
    ]
}

fn texts(values: &[&str]) -> Vec<String> {
    values.iter().map(|value| (*value).to_string()).collect()
}

/// The won Contoso deal's order (1,111,920.00 with tax) on a 30/70 schedule: 333,576.00 and
/// 778,344.00. The first payment settles the first instalment and the rest shows as due; a
/// partial and an over-payment follow, a refund takes the credit first; retries are answered
/// with the payment recorded; each payment and refund is one event.
#[tokio::test]
async fn the_won_deals_thirty_seventy_schedule_takes_its_first_payment_and_the_rest_is_due() {
    let collections = Collections::open().await;
    let desk = &collections.desk;
    let ravi = desk.ravi.clone();
    let order = desk.accepted("18").await.order.unwrap();
    let open = collections
        .schedule(&ravi, &desk.deal_id, &order.id, by_percent(&["30", "70"]))
        .await
        .unwrap_err();
    assert_eq!(open.code(), Code::FailedPrecondition, "{open:?}");
    collections.win(&desk.deal_id).await;

    let schedule = collections
        .schedule(&ravi, &desk.deal_id, &order.id, by_percent(&["30", "70"]))
        .await
        .unwrap();
    // 1,111,920.00 × 30% = 333,576.00; the rest 778,344.00.
    assert_eq!(
        figures(&schedule),
        [
            ("333576".into(), "0".into(), "333576".into()),
            ("778344".into(), "0".into(), "778344".into()),
        ]
    );
    assert_eq!(schedule.order_id, order.id);
    assert_eq!(schedule.owner_id, ravi.user_id.to_string());

    let first = Uuid::now_v7();
    let paid = collections.pay(&ravi, first, "333576.00").await.unwrap();
    let after = paid.schedule.unwrap();
    assert_eq!(
        figures(&after),
        [
            ("333576".into(), "333576".into(), "0".into()),
            ("778344".into(), "0".into(), "778344".into()),
        ]
    );
    assert_eq!(after.instalments[0].status(), pb::InstalmentStatus::Paid);
    assert_eq!(after.instalments[1].status(), pb::InstalmentStatus::Open);
    assert_eq!(totals(&after), texts(&["1111920", "333576", "778344", "0"]));
    let retried = collections.pay(&ravi, first, "333576.00").await.unwrap();
    assert_eq!(retried.payment, paid.payment);
    assert_eq!(retried.schedule.unwrap().version, after.version);

    let partial = collections
        .pay(&ravi, Uuid::now_v7(), "100000")
        .await
        .unwrap();
    let partial = partial.schedule.unwrap();
    assert_eq!(
        partial.instalments[1].status(),
        pb::InstalmentStatus::PartlyPaid
    );
    assert_eq!(
        totals(&partial),
        texts(&["1111920", "433576", "678344", "0"])
    );
    // 700,000.00 against 678,344.00 open: 21,656.00 credit.
    let over_id = Uuid::now_v7();
    let over = collections.pay(&ravi, over_id, "700000").await.unwrap();
    assert_eq!(amount(&over.payment.unwrap().to_credit), "21656");
    let over = over.schedule.unwrap();
    assert_eq!(totals(&over), texts(&["1111920", "1111920", "0", "21656"]));

    // 50,000.00 back: the 21,656.00 credit, then 28,344.00 off the second instalment.
    let refunded = collections.refund(&ravi, over_id, "50000").await.unwrap();
    let refund = refunded.payment.unwrap().refunds[0].clone();
    assert_eq!(amount(&refund.from_credit), "21656");
    assert_eq!(refund.allocations.len(), 1);
    assert_eq!(refund.allocations[0].instalment_number, 2);
    assert_eq!(amount(&refund.allocations[0].amount), "-28344");
    let refunded = refunded.schedule.unwrap();
    assert_eq!(
        totals(&refunded),
        texts(&["1111920", "1083576", "28344", "0"])
    );
    // 650,000.00 of that payment remains refundable.
    let too_much = collections.refund(&ravi, over_id, "650000.01").await;
    let too_much = too_much.unwrap_err();
    assert_eq!(too_much.code(), Code::FailedPrecondition);
    assert_eq!(fields(&too_much), ["amount.amount"]);
    let dollars = pb::RecordPaymentRequest {
        opportunity_id: desk.deal_id.clone(),
        payment_id: Uuid::now_v7().to_string(),
        amount: money("USD", "10"),
        ..Default::default()
    };
    let request = desk.harness.request(&ravi, dollars);
    let dollars = collections.client.clone().record_payment(request).await;
    assert_eq!(fields(&dollars.unwrap_err()), ["amount.currency_code"]);

    assert_eq!(
        collections.get(&ravi, &desk.deal_id).await.unwrap(),
        refunded
    );
    assert_eq!(
        desk.events(&schedule.id).await,
        [
            "crm.opportunities.v1.PaymentReceived",
            "crm.opportunities.v1.PaymentReceived",
            "crm.opportunities.v1.PaymentReceived",
            "crm.opportunities.v1.PaymentRefunded"
        ]
    );

    // An order with money kept is not cancelled.
    let cancel = pb::CancelOrderRequest {
        order_id: order.id.clone(),
        reason: "withdrawn".into(),
        expected_version: 0,
    };
    let request = desk.harness.request(&ravi, cancel);
    let kept = desk.harness.orders.clone().cancel_order(request).await;
    assert_eq!(fields(&kept.unwrap_err()), ["order_id"]);
}

/// A schedule replaced keeps what is paid (oldest first); one below it, a mix of percents and
/// amounts, percents short of 100 and a cancelled order are refusals naming their fields; the
/// deal's amount is the total without an order, 30/70 of 123,456.79 rounding half to even.
#[tokio::test]
async fn a_replaced_schedule_keeps_what_is_paid_and_bad_schedules_are_refused_by_field() {
    let collections = Collections::open().await;
    let desk = &collections.desk;
    let ravi = desk.ravi.clone();
    let order = desk.accepted("18").await.order.unwrap();
    collections.win(&desk.deal_id).await;
    collections
        .schedule(&ravi, &desk.deal_id, &order.id, by_percent(&["30", "70"]))
        .await
        .unwrap();
    collections
        .pay(&ravi, Uuid::now_v7(), "400000")
        .await
        .unwrap();
    let amounts = |values: &[&str]| -> Vec<pb::InstalmentInput> {
        values
            .iter()
            .zip(1..)
            .map(|(value, months)| pb::InstalmentInput {
                due_date: day(10 * months),
                amount: money("CNY", value),
                ..Default::default()
            })
            .collect()
    };
    let replaced = collections
        .schedule(
            &ravi,
            &desk.deal_id,
            &order.id,
            amounts(&["250000", "250000", "611920"]),
        )
        .await
        .unwrap();
    assert_eq!(
        figures(&replaced),
        [
            ("250000".into(), "250000".into(), "0".into()),
            ("250000".into(), "150000".into(), "100000".into()),
            ("611920".into(), "0".into(), "611920".into()),
        ]
    );
    assert_eq!(replaced.version, 3);

    let short = collections
        .schedule(
            &ravi,
            &desk.deal_id,
            &order.id,
            amounts(&["250000", "250000"]),
        )
        .await
        .unwrap_err();
    assert_eq!(short.code(), Code::FailedPrecondition);
    assert_eq!(fields(&short), ["instalments"]);
    let mut mixed = by_percent(&["30", "70"]);
    mixed[1].percent.clear();
    mixed[1].amount = money("CNY", "778344");
    let mixed = collections
        .schedule(&ravi, &desk.deal_id, &order.id, mixed)
        .await
        .unwrap_err();
    assert_eq!(fields(&mixed), ["instalments[1].amount"]);
    let both = vec![pb::InstalmentInput {
        due_date: day(1),
        percent: "100".into(),
        amount: money("CNY", "1"),
        ..Default::default()
    }];
    let both = collections
        .schedule(&ravi, &desk.deal_id, &order.id, both)
        .await
        .unwrap_err();
    // Both, or neither, is more than the schema states: a refusal (422) naming the field.
    assert_eq!(both.code(), Code::FailedPrecondition);
    assert_eq!(fields(&both), ["instalments[0].percent"]);
    let other = collections
        .schedule(
            &ravi,
            &desk.deal_id,
            &Uuid::now_v7().to_string(),
            by_percent(&["100"]),
        )
        .await
        .unwrap_err();
    assert_eq!(fields(&other), ["order_id"]);

    // Without an order the total is the deal's amount: 984,000.00 after the acceptance.
    let of_deal = collections
        .schedule(&ravi, &desk.deal_id, "", by_percent(&["30", "70"]))
        .await
        .unwrap();
    assert_eq!(totals(&of_deal)[0], "984000");
    assert_eq!(of_deal.instalments[0].status(), pb::InstalmentStatus::Paid);

    // A fresh won deal of CNY 123,456.79: 37,037.04 and 86,419.75.
    let account_id = desk.harness.publish_account(&ravi).await;
    let create = pb::CreateOpportunityRequest {
        opportunity: Some(pb::OpportunityInput {
            name: "Spare parts".into(),
            account_id,
            amount: money("CNY", "123456.79"),
            expected_close_date: day(30),
            ..Default::default()
        }),
        opportunity_id: String::new(),
    };
    let request = desk.harness.request(&ravi, create);
    let deal = desk.harness.deals.clone().create_opportunity(request).await;
    let deal_id = deal.unwrap().into_inner().opportunity.unwrap().id;
    collections.win(&deal_id).await;
    let odd = collections
        .schedule(&ravi, &deal_id, "", by_percent(&["30", "70"]))
        .await
        .unwrap();
    assert_eq!(
        figures(&odd),
        [
            ("37037.04".into(), "0".into(), "37037.04".into()),
            ("86419.75".into(), "0".into(), "86419.75".into()),
        ]
    );
}

/// Mei (Ravi's manager) reads the schedule and records payments; someone outside the deal sees
/// no schedule and pays nothing (NOT_FOUND); a deal without a schedule has none to read.
#[tokio::test]
async fn whoever_reads_the_deal_reads_its_schedule_and_others_find_none() {
    let collections = Collections::open().await;
    let desk = &collections.desk;
    let ravi = desk.ravi.clone();
    let missing = collections.get(&ravi, &desk.deal_id).await.unwrap_err();
    assert_eq!(missing.code(), Code::NotFound);
    let order = desk.accepted("0").await.order.unwrap();
    collections.win(&desk.deal_id).await;
    let stranger = user("rep", EAST);
    let hidden = collections
        .schedule(&stranger, &desk.deal_id, &order.id, by_percent(&["100"]))
        .await
        .unwrap_err();
    assert_eq!(hidden.code(), Code::NotFound);
    let schedule = collections
        .schedule(&ravi, &desk.deal_id, &order.id, by_percent(&["100"]))
        .await
        .unwrap();
    assert_eq!(
        collections.get(&desk.mei, &desk.deal_id).await.unwrap(),
        schedule
    );
    let hidden = collections.get(&stranger, &desk.deal_id).await.unwrap_err();
    assert_eq!(hidden.code(), Code::NotFound);
    let payment = Uuid::now_v7();
    let hidden = collections.pay(&stranger, payment, "1").await.unwrap_err();
    assert_eq!(hidden.code(), Code::NotFound);
    let by_mei = collections.pay(&desk.mei, payment, "1").await.unwrap();
    assert_eq!(
        by_mei.payment.unwrap().recorded_by,
        desk.mei.user_id.to_string()
    );
    let hidden = collections
        .refund(&stranger, payment, "1")
        .await
        .unwrap_err();
    assert_eq!(hidden.code(), Code::NotFound);
}

/// Ravi's won order on instalments due 2027-01-31 (333,576.00) and 2027-03-31 (778,344.00),
/// 100,000.00 paid: aged as of chosen days, summed per bucket, rep and team; Mei sees it as his
/// manager, filters narrow it, someone outside the deal sees nothing.
#[tokio::test]
async fn receivables_are_aged_into_buckets_as_of_the_day_asked() {
    let collections = Collections::open().await;
    let desk = &collections.desk;
    let ravi = desk.ravi.clone();
    let order = desk.accepted("18").await.order.unwrap();
    collections.win(&desk.deal_id).await;
    let instalments = vec![
        pb::InstalmentInput {
            due_date: "2027-01-31".into(),
            percent: "30".into(),
            ..Default::default()
        },
        pb::InstalmentInput {
            due_date: "2027-03-31".into(),
            percent: "70".into(),
            ..Default::default()
        },
    ];
    collections
        .schedule(&ravi, &desk.deal_id, &order.id, instalments)
        .await
        .unwrap();
    collections
        .pay(&ravi, Uuid::now_v7(), "100000")
        .await
        .unwrap();
    let list = |caller: Caller, request: pb::ListReceivablesRequest| {
        let request = desk.harness.request(&caller, request);
        let mut client = collections.client.clone();
        async move { client.list_receivables(request).await.unwrap().into_inner() }
    };
    let on = |as_of: &str| pb::ListReceivablesRequest {
        as_of: as_of.into(),
        ..Default::default()
    };
    // (instalment, open, days overdue, bucket)
    let rows = |listed: &pb::ListReceivablesResponse| -> Vec<(u32, String, u32, pb::AgeingBucket)> {
        listed
            .receivables
            .iter()
            .map(|r| {
                (
                    r.instalment_number,
                    amount(&r.open),
                    r.days_overdue,
                    r.bucket(),
                )
            })
            .collect()
    };
    let buckets = |totals: &pb::ReceivableTotals| -> Vec<String> {
        totals.buckets.iter().map(|b| amount(&b.amount)).collect()
    };

    let due_day = list(ravi.clone(), on("2027-01-31")).await;
    assert_eq!(due_day.as_of, "2027-01-31");
    assert_eq!(
        rows(&due_day),
        [
            (1, "233576".into(), 0, pb::AgeingBucket::NotDue),
            (2, "778344".into(), 0, pb::AgeingBucket::NotDue),
        ]
    );
    let next_day = list(ravi.clone(), on("2027-02-01")).await;
    assert_eq!(
        next_day.receivables[0].bucket(),
        pb::AgeingBucket::Days1To30
    );
    assert_eq!(next_day.receivables[0].days_overdue, 1);

    // 2027-05-15: the first 104 days late, the second 45.
    let late = list(ravi.clone(), on("2027-05-15")).await;
    assert_eq!(
        rows(&late),
        [
            (1, "233576".into(), 104, pb::AgeingBucket::Over90),
            (2, "778344".into(), 45, pb::AgeingBucket::Days31To60),
        ]
    );
    assert_eq!(late.totals.len(), 1);
    assert_eq!(late.totals[0].currency_code, "CNY");
    assert_eq!(
        buckets(&late.totals[0]),
        ["0", "0", "778344", "0", "233576"]
    );
    assert_eq!(amount(&late.totals[0].total), "1011920");
    assert_eq!(late.by_owner.len(), 1);
    assert_eq!(late.by_owner[0].key, ravi.user_id.to_string());
    assert_eq!(late.by_team[0].key, EAST_1);
    assert_eq!(amount(&late.by_team[0].total), "1011920");

    let by_mei = list(desk.mei.clone(), on("2027-05-15")).await;
    assert_eq!(rows(&by_mei), rows(&late));
    let team = pb::ListReceivablesRequest {
        team_path: EAST_1.into(),
        ..on("2027-05-15")
    };
    assert_eq!(list(desk.mei.clone(), team).await.receivables.len(), 2);
    let other_rep = pb::ListReceivablesRequest {
        owner_id: Uuid::now_v7().to_string(),
        ..on("2027-05-15")
    };
    assert!(
        list(desk.mei.clone(), other_rep)
            .await
            .receivables
            .is_empty()
    );
    let stranger = user("rep", EAST);
    let hidden = list(stranger, on("2027-05-15")).await;
    assert!(hidden.receivables.is_empty() && hidden.totals.is_empty());
}

/// The reminder job, run twice at once and again later on chosen clocks: payment_due_soon from
/// 7 days before an open instalment's due date, payment_overdue from the day after, each once;
/// a paid instalment is reminded of nothing.
#[tokio::test]
async fn reminders_go_out_once_per_instalment_even_with_two_runs_at_once() {
    let collections = Collections::open().await;
    let desk = &collections.desk;
    let ravi = desk.ravi.clone();
    let order = desk.accepted("18").await.order.unwrap();
    collections.win(&desk.deal_id).await;
    let instalments = ["2027-01-31", "2027-03-31"]
        .iter()
        .zip(["30", "70"])
        .map(|(due, percent)| pb::InstalmentInput {
            due_date: (*due).into(),
            percent: percent.into(),
            ..Default::default()
        })
        .collect();
    let schedule = collections
        .schedule(&ravi, &desk.deal_id, &order.id, instalments)
        .await
        .unwrap();
    let context = desk.harness.app.services.context("opportunities").unwrap();
    let at = |day: &str| {
        chrono::NaiveDate::parse_from_str(day, "%Y-%m-%d")
            .unwrap()
            .and_hms_opt(9, 0, 0)
            .unwrap()
            .and_utc()
    };
    let run = |day: &'static str| {
        crm_opportunities::run_job(context, crm_opportunities::PAYMENT_REMINDERS, at(day))
    };
    let reminders = || async {
        let events = desk.events(&schedule.id).await;
        events
            .into_iter()
            .filter(|event| event.contains("PaymentDueSoon") || event.contains("PaymentOverdue"))
            .collect::<Vec<_>>()
    };

    // 8 days before: nothing yet.
    assert_eq!(run("2027-01-23").await.unwrap(), 0);
    // 7 days before, two runs at once: one reminder between them.
    let (first, second) = tokio::join!(run("2027-01-24"), run("2027-01-24"));
    assert_eq!(first.unwrap() + second.unwrap(), 1);
    assert_eq!(run("2027-01-31").await.unwrap(), 0);
    assert_eq!(reminders().await, ["crm.opportunities.v1.PaymentDueSoon"]);
    // The day after the due date: overdue, once.
    let (first, second) = tokio::join!(run("2027-02-01"), run("2027-02-01"));
    assert_eq!(first.unwrap() + second.unwrap(), 1);
    assert_eq!(run("2027-02-02").await.unwrap(), 0);
    // The first instalment paid; the second's turn comes, the first's never again.
    collections
        .pay(&ravi, Uuid::now_v7(), "333576")
        .await
        .unwrap();
    assert_eq!(run("2027-03-24").await.unwrap(), 1);
    assert_eq!(run("2027-04-01").await.unwrap(), 1);
    assert_eq!(run("2027-05-01").await.unwrap(), 0);
    assert_eq!(
        reminders().await,
        [
            "crm.opportunities.v1.PaymentDueSoon",
            "crm.opportunities.v1.PaymentOverdue",
            "crm.opportunities.v1.PaymentDueSoon",
            "crm.opportunities.v1.PaymentOverdue"
        ]
    );
}
