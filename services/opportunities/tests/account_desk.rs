//! An account's deal desk (`AccountDeskService`): Ravi's Contoso account with his two deals'
//! quotes (the latest version of each), activities (on the account, a deal, a contact), a won
//! deal's schedule and payment, expenses and a slipping plan, beside Mei's own deal on the
//! account — each part as its family shows it to the caller: Ravi reads none of Mei's quote,
//! call or expense, Mei reads both of theirs. Over a real tonic client against real PostgreSQL
//! and NATS.

mod support;

use chrono::{Duration, Utc};
use crm_platform::{auth::Caller, money::CurrencyCode, time::to_timestamp};
use std::time::Duration as StdDuration;

use crm_proto::crm::accounts::v1 as accounts;
use crm_proto::crm::opportunities::v1::{
    self as pb, account_desk_service_client::AccountDeskServiceClient,
    collection_service_client::CollectionServiceClient,
    deal_plan_service_client::DealPlanServiceClient, expense_service_client::ExpenseServiceClient,
};
use crm_test_support::eventually;
use support::{
    desk::{Desk, amount},
    *,
};
use tonic::{Code, Status};
use uuid::Uuid;

const WON_FOR_PRICE: &str = "01900000-0000-7000-8000-000000000102";

struct Account {
    desk: Desk,
    account_id: String,
}

impl Account {
    async fn open() -> Self {
        let desk = Desk::open().await;
        // Expenses are summed in the corporate currency.
        desk.harness.set_corporate_currency(CurrencyCode::CNY).await;
        let request = pb::GetOpportunityRequest {
            opportunity_id: desk.deal_id.clone(),
        };
        let request = desk.harness.request(&desk.ravi, request);
        let deal = desk.harness.deals.clone().get_opportunity(request).await;
        let account_id = deal.unwrap().into_inner().opportunity.unwrap().account_id;
        Self { desk, account_id }
    }

    async fn deal(&self, owner: &Caller, name: &str, value: &str) -> String {
        let create = pb::CreateOpportunityRequest {
            opportunity: Some(pb::OpportunityInput {
                name: name.into(),
                account_id: self.account_id.clone(),
                amount: money("CNY", value),
                expected_close_date: day(30),
                ..Default::default()
            }),
            opportunity_id: String::new(),
        };
        let request = self.desk.harness.request(owner, create);
        let mut deals = self.desk.harness.deals.clone();
        let deal = deals.create_opportunity(request).await.unwrap();
        deal.into_inner().opportunity.unwrap().id
    }

    async fn view(&self, caller: &Caller, account_id: &str) -> Result<pb::AccountDesk, Status> {
        let request = pb::GetAccountDeskRequest {
            account_id: account_id.into(),
            as_of: String::new(),
        };
        let request = self.desk.harness.request(caller, request);
        let channel = self.desk.harness.app.channel().await;
        let reply = AccountDeskServiceClient::new(channel)
            .get_account_desk(request)
            .await?;
        Ok(reply.into_inner().desk.unwrap())
    }

    async fn log(&self, caller: &Caller, subject: &str, hours_ago: i64, regarding: pb::Regarding) {
        let request = pb::LogActivityRequest {
            activity: Some(pb::ActivityInput {
                kind: pb::ActivityKind::Call.into(),
                subject: subject.into(),
                starts_at: Some(to_timestamp(Utc::now() - Duration::hours(hours_ago))),
                ..Default::default()
            }),
            regarding: Some(regarding),
            ..Default::default()
        };
        let request = self.desk.harness.request(caller, request);
        let mut activities = self.desk.harness.activities.clone();
        activities.log_activity(request).await.unwrap();
    }

    async fn expense(
        &self,
        caller: &Caller,
        on_deal: &str,
        category: pb::ExpenseCategory,
        value: &str,
        days_ago: i64,
    ) -> pb::Expense {
        let (opportunity_id, account_id) = match on_deal {
            "" => (String::new(), self.account_id.clone()),
            deal => (deal.to_owned(), String::new()),
        };
        let request = pb::CreateExpenseRequest {
            opportunity_id,
            account_id,
            expense: Some(pb::ExpenseInput {
                incurred_on: day(-days_ago),
                category: category.into(),
                amount: money("CNY", value),
                note: "customer visit".into(),
                receipt_reference: String::new(),
            }),
            ..Default::default()
        };
        let request = self.desk.harness.request(caller, request);
        let mut client = ExpenseServiceClient::new(self.desk.harness.app.channel().await);
        let expense = client.create_expense(request).await.unwrap().into_inner();
        expense.expense.unwrap()
    }

    /// A contact of the account as the accounts service would publish it, once the service
    /// knows it.
    async fn publish_contact(&self, name: &str) -> String {
        let contact_id = Uuid::now_v7().to_string();
        let created = accounts::ContactCreated {
            contact: Some(accounts::Contact {
                id: contact_id.clone(),
                account_id: self.account_id.clone(),
                full_name: name.into(),
                status: accounts::ContactStatus::Active.into(),
                version: 1,
                ..Default::default()
            }),
        };
        let app = &self.desk.harness.app;
        app.publish_event("opportunities", &created).await;
        let pool = app.pool("opportunities");
        eventually(
            StdDuration::from_secs(15),
            "the contact is known",
            || async {
                let known: i64 =
                    sqlx::query_scalar("SELECT count(*) FROM contact_replicas WHERE id = $1::uuid")
                        .bind(&contact_id)
                        .fetch_one(pool)
                        .await
                        .unwrap();
                known == 1
            },
        )
        .await;
        contact_id
    }

    async fn expenses(&self) -> ExpenseServiceClient<tonic::transport::Channel> {
        ExpenseServiceClient::new(self.desk.harness.app.channel().await)
    }
}

fn subjects(desk: &pb::AccountDesk) -> Vec<&str> {
    desk.activities.iter().map(|a| a.subject.as_str()).collect()
}

fn quotes(desk: &pb::AccountDesk) -> Vec<(String, u32)> {
    let quotes = desk.quotes.iter();
    quotes
        .map(|q| (q.number.clone(), q.quote_version))
        .collect()
}

fn expense_ids(desk: &pb::AccountDesk) -> Vec<&str> {
    desk.expenses.iter().map(|e| e.id.as_str()).collect()
}

#[tokio::test]
async fn the_desk_holds_each_familys_records_of_the_account_as_the_caller_reads_them() {
    let account = Account::open().await;
    let desk = &account.desk;
    let harness = &desk.harness;
    let (ravi, mei) = (&desk.ravi, &desk.mei);
    let line_3 = desk.deal_id.clone();

    // Quotes: the first is submitted and revised (its version 2 is the latest), then a second.
    let first = desk.quote(ravi, desk.create("0")).await.unwrap();
    desk.submit(ravi, &first.id).await.unwrap();
    let revise = pb::ReviseQuoteRequest {
        quote_id: first.id.clone(),
        expected_version: 0,
        new_quote_id: String::new(),
    };
    let revised = harness
        .quotes
        .clone()
        .revise_quote(harness.request(ravi, revise))
        .await
        .unwrap()
        .into_inner()
        .quote
        .unwrap();
    let second = desk.quote(ravi, desk.create("5")).await.unwrap();
    // Mei's own deal on Ravi's account, with her quote: hers to read, not his.
    let pilot = account.deal(mei, "Pilot cell", "90000").await;
    let mei_quote = pb::CreateQuoteRequest {
        opportunity_id: pilot.clone(),
        ..desk.create("0")
    };
    let mei_quote = desk.quote(mei, mei_quote).await.unwrap();

    // A won deal of Ravi's: 30/70 of 984,000, the first instalment ten days late, 100,000 paid.
    let retrofit = account.deal(ravi, "Line 4 retrofit", "984000").await;
    let win = pb::MarkWonRequest {
        opportunity_id: retrofit.clone(),
        close_reason_id: WON_FOR_PRICE.into(),
        ..Default::default()
    };
    let request = harness.request(ravi, win);
    harness.deals.clone().mark_won(request).await.unwrap();
    let mut collections = CollectionServiceClient::new(harness.app.channel().await);
    let schedule = pb::SetPaymentScheduleRequest {
        opportunity_id: retrofit.clone(),
        order_id: String::new(),
        instalments: [("30", -10), ("70", 20)]
            .into_iter()
            .map(|(percent, due)| pb::InstalmentInput {
                due_date: day(due),
                percent: percent.into(),
                ..Default::default()
            })
            .collect(),
        expected_version: 0,
    };
    let request = harness.request(ravi, schedule);
    let schedule = collections.set_payment_schedule(request).await.unwrap();
    let schedule = schedule.into_inner().schedule.unwrap();
    let payment_id = Uuid::now_v7();
    let payment = pb::RecordPaymentRequest {
        opportunity_id: retrofit.clone(),
        payment_id: payment_id.to_string(),
        amount: money("CNY", "100000"),
        received_on: day(-1),
        method: pb::PaymentMethod::BankTransfer.into(),
        reference: "TT-0001".into(),
    };
    let request = harness.request(ravi, payment);
    collections.record_payment(request).await.unwrap();

    // Activities on the account, on a deal of it, on Mei's deal, and on another account.
    let on_account = pb::Regarding {
        account_id: account.account_id.clone(),
        ..Default::default()
    };
    let on = |deal: &str| pb::Regarding {
        opportunity_id: deal.into(),
        ..Default::default()
    };
    account.log(ravi, "Budget call", 5, on_account).await;
    account.log(ravi, "Pricing call", 2, on(&line_3)).await;
    account.log(mei, "Pilot scoping", 1, on(&pilot)).await;
    let li = account.publish_contact("Li Wei").await;
    let on_contact = pb::Regarding {
        contact_id: li,
        ..Default::default()
    };
    account.log(ravi, "Call with Li Wei", 3, on_contact).await;
    let elsewhere = pb::Regarding {
        account_id: Uuid::now_v7().to_string(),
        ..Default::default()
    };
    account.log(ravi, "Fabrikam intro", 0, elsewhere).await;

    // Expenses: Ravi's travel on the won deal approved by Mei, his meal on the account a draft;
    // Mei's gift on her deal submitted.
    let travel = account
        .expense(ravi, &retrofit, pb::ExpenseCategory::Travel, "1200", 3)
        .await;
    let meal = account
        .expense(ravi, "", pb::ExpenseCategory::Meals, "300", 1)
        .await;
    let gift = account
        .expense(mei, &pilot, pb::ExpenseCategory::Gifts, "500", 2)
        .await;
    let mut expenses = account.expenses().await;
    for (caller, id) in [(ravi, &travel.id), (mei, &gift.id)] {
        let submit = pb::SubmitExpenseRequest {
            expense_id: id.clone(),
            expected_version: 0,
        };
        let request = harness.request(caller, submit);
        expenses.submit_expense(request).await.unwrap();
    }
    let approve = pb::ApproveExpenseRequest {
        expense_id: travel.id.clone(),
        note: "fine".into(),
        expected_version: 0,
    };
    let request = harness.request(mei, approve);
    expenses.approve_expense(request).await.unwrap();

    // Line 3's plan, its milestone three days late.
    let mut plans = DealPlanServiceClient::new(harness.app.channel().await);
    let create = pb::CreateDealPlanRequest {
        opportunity_id: line_3.clone(),
        objective: "Signed by Contoso's board before year end".into(),
    };
    plans
        .create_deal_plan(harness.request(ravi, create))
        .await
        .unwrap();
    let milestone = pb::AddMilestoneRequest {
        opportunity_id: line_3.clone(),
        milestone: Some(pb::MilestoneInput {
            name: "Technical win".into(),
            due_on: day(-3),
            ..Default::default()
        }),
        expected_version: 0,
    };
    plans
        .add_milestone(harness.request(ravi, milestone))
        .await
        .unwrap();

    // Ravi's desk: his records only.
    let view = account.view(ravi, &account.account_id).await.unwrap();
    assert_eq!(view.account_id, account.account_id);
    assert_eq!(view.as_of, day(0));
    assert_eq!(
        quotes(&view),
        [(second.number.clone(), 1), (first.number.clone(), 2),],
        "the latest version of each, newest first; not Mei's"
    );
    assert_eq!(view.quotes[1].id, revised.id);
    assert_eq!(view.quotes[1].status(), pb::QuoteStatus::Draft);
    assert_eq!(
        amount(&view.quotes[0].figures.as_ref().unwrap().total),
        desk.get(&second.id)
            .await
            .figures
            .unwrap()
            .total
            .unwrap()
            .amount
    );
    assert_eq!(
        subjects(&view),
        ["Pricing call", "Call with Li Wei", "Budget call"]
    );
    assert_eq!(view.payments.len(), 1);
    let paid = &view.payments[0];
    assert_eq!(
        (paid.opportunity_id.as_str(), paid.schedule_id.as_str()),
        (retrofit.as_str(), schedule.id.as_str())
    );
    let paid = paid.payment.as_ref().unwrap();
    assert_eq!(paid.id, payment_id.to_string());
    assert_eq!(amount(&paid.amount), "100000");
    assert_eq!(
        view.receivables,
        [pb::AccountReceivables {
            currency_code: "CNY".into(),
            // 295,200 + 688,800 − 100,000 open; what is left of the first instalment is late.
            open: money("CNY", "884000"),
            overdue: money("CNY", "195200"),
            open_instalments: 2,
            overdue_instalments: 1,
        }]
    );
    assert_eq!(expense_ids(&view), [meal.id.as_str(), travel.id.as_str()]);
    let summary = view.expense_summary.clone().unwrap();
    assert_eq!(summary.approved, [money("CNY", "1200").unwrap()]);
    assert_eq!(summary.submitted, [], "Mei's gift is not Ravi's to read");
    assert_eq!(amount(&summary.approved_corporate), "1200");
    assert_eq!(amount(&summary.won_corporate), "984000");
    assert_eq!(summary.cost_of_sale_percent, "0.12");
    assert_eq!(view.plans.len(), 1);
    let plan = &view.plans[0];
    assert_eq!(plan.opportunity_id, line_3);
    assert_eq!(plan.status(), pb::PlanStatus::Slipping);
    assert_eq!(plan.milestones[0].days_late, 3);
    assert!(
        !(view.quotes_truncated
            || view.activities_truncated
            || view.payments_truncated
            || view.expenses_truncated
            || view.plans_truncated)
    );

    // Mei, the team's manager: Ravi's records and her own.
    let view = account.view(mei, &account.account_id).await.unwrap();
    assert_eq!(
        quotes(&view),
        [
            (mei_quote.number.clone(), 1),
            (second.number.clone(), 1),
            (first.number.clone(), 2),
        ]
    );
    assert_eq!(
        subjects(&view),
        [
            "Pilot scoping",
            "Pricing call",
            "Call with Li Wei",
            "Budget call"
        ]
    );
    assert_eq!(
        expense_ids(&view),
        [meal.id.as_str(), gift.id.as_str(), travel.id.as_str()]
    );
    let summary = view.expense_summary.unwrap();
    assert_eq!(summary.submitted, [money("CNY", "500").unwrap()]);
    assert_eq!(view.payments.len(), 1);

    // Nora, another rep of the team, reads nothing of it; nor does anyone of an unknown account.
    let nora = crm_test_support::user("rep", EAST_1);
    let empty = account.view(&nora, &account.account_id).await.unwrap();
    assert!(empty.quotes.is_empty() && empty.activities.is_empty());
    assert!(empty.payments.is_empty() && empty.receivables.is_empty());
    assert!(empty.expenses.is_empty() && empty.plans.is_empty());
    let summary = empty.expense_summary.unwrap();
    assert!(summary.approved.is_empty() && summary.won_corporate.is_none());
    let unknown = Uuid::now_v7().to_string();
    let unknown = account.view(ravi, &unknown).await.unwrap();
    assert!(unknown.quotes.is_empty() && unknown.activities.is_empty());
}

#[tokio::test]
async fn a_malformed_account_or_day_is_invalid_naming_its_field() {
    let account = Account::open().await;
    let ravi = &account.desk.ravi;
    let refused = account.view(ravi, "contoso").await.unwrap_err();
    assert_eq!(refused.code(), Code::InvalidArgument);
    assert_eq!(fields(&refused), ["account_id"]);

    let request = pb::GetAccountDeskRequest {
        account_id: account.account_id.clone(),
        as_of: "31/12/2026".into(),
    };
    let request = account.desk.harness.request(ravi, request);
    let channel = account.desk.harness.app.channel().await;
    let refused = AccountDeskServiceClient::new(channel)
        .get_account_desk(request)
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::InvalidArgument);
    assert_eq!(fields(&refused), ["as_of"]);

    // A chosen day ages the receivables and counts the plans' slippage on it.
    let request = pb::GetAccountDeskRequest {
        account_id: account.account_id.clone(),
        as_of: "2026-12-31".into(),
    };
    let request = account.desk.harness.request(ravi, request);
    let channel = account.desk.harness.app.channel().await;
    let desk = AccountDeskServiceClient::new(channel)
        .get_account_desk(request)
        .await
        .unwrap()
        .into_inner()
        .desk
        .unwrap();
    assert_eq!(desk.as_of, "2026-12-31");
}
