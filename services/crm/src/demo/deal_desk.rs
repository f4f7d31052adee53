//! The deal desk's money on the demo's deals (O6, O8, O11): Ravi's first won deal in yuan gets
//! a 30/70 payment schedule and its first 30 % paid; Ravi has two expenses — one on that deal,
//! approved by Mei, his manager, and one on his live Contoso deal, waiting for her — and his
//! Contoso quote at 18 % off, above the 15 % threshold, waits in her approval queue.
//!
//! A second run writes nothing: the schedule is set only when the deal has none, the payment,
//! the expenses and the quote have fixed ids (a retry answers what was recorded), and an
//! expense or the quote is submitted or approved only while it is still a draft or waiting.

use chrono::{Duration, Utc};
use crm_proto::crm::{
    common::v1::{Money, PageRequest},
    opportunities::v1::{
        ApproveExpenseRequest, CreateExpenseRequest, CreateQuoteRequest, ExpenseCategory,
        ExpenseInput, ExpenseStatus, GetPaymentScheduleRequest, InstalmentInput,
        ListOpportunitiesRequest, OpportunityStatus, PaymentMethod, QuoteLineInput, QuoteStatus,
        RecordPaymentRequest, SetPaymentScheduleRequest, SubmitExpenseRequest, SubmitQuoteRequest,
        collection_service_client::CollectionServiceClient,
        expense_service_client::ExpenseServiceClient,
        opportunity_service_client::OpportunityServiceClient,
        quote_service_client::QuoteServiceClient,
    },
};
use tonic::Code;
use uuid::Uuid;

use super::{
    ADA, Api, MEI, RAVI, failed,
    price_book::{INSTALL_DAY, LINE3_ROBOT},
};

/// Ravi's live Contoso deal (`super::opportunities`).
const CONTOSO_LINE_3: u128 = 0x0190_0000_0000_7000_8000_00de_a200_0001;
/// Ravi's quote on the Contoso deal (the scenario's, at 18 % off).
const CONTOSO_QUOTE: u128 = 0x0190_0000_0000_7000_8000_00de_a500_0001;
/// The first payment on the won deal's schedule.
const FIRST_PAYMENT: u128 = 0x0190_0000_0000_7000_8000_00de_a300_0001;
/// Ravi's expenses: on the won deal (approved), on Contoso (submitted).
const EXPENSE_WON: u128 = 0x0190_0000_0000_7000_8000_00de_a400_0001;
const EXPENSE_CONTOSO: u128 = 0x0190_0000_0000_7000_8000_00de_a400_0002;

/// Ravi's first won deal in yuan (the imported history's; the same on every run).
async fn won_deal(api: &Api) -> anyhow::Result<String> {
    let mut deals = OpportunityServiceClient::new(api.channel());
    let request = ListOpportunitiesRequest {
        page: Some(PageRequest {
            page_size: 200,
            page_token: String::new(),
        }),
        owner_id: RAVI.user_id().to_string(),
        status: OpportunityStatus::Won.into(),
        ..Default::default()
    };
    let listed = deals
        .list_opportunities(api.as_member(&ADA, request))
        .await
        .map_err(failed("Ravi's won deals"))?
        .into_inner()
        .opportunities;
    listed
        .into_iter()
        .find(|deal| {
            deal.amount
                .as_ref()
                .is_some_and(|m| m.currency_code == "CNY")
        })
        .map(|deal| deal.id)
        .ok_or_else(|| anyhow::anyhow!("demo: Ravi has no won deal in CNY"))
}

/// A 30/70 schedule (the first instalment due ten days ago, the second in two months) unless the
/// deal has one, and the first instalment paid.
async fn collections(api: &Api, deal_id: &str) -> anyhow::Result<()> {
    let mut client = CollectionServiceClient::new(api.channel());
    let get = GetPaymentScheduleRequest {
        opportunity_id: deal_id.into(),
    };
    let schedule = match client.get_payment_schedule(api.as_member(&RAVI, get)).await {
        Ok(answer) => answer.into_inner().schedule,
        Err(status) if status.code() == Code::NotFound => {
            let today = Utc::now().date_naive();
            let instalment = |days: i64, percent: &str, note: &str| InstalmentInput {
                due_date: (today + Duration::days(days)).to_string(),
                percent: percent.into(),
                amount: None,
                note: note.into(),
            };
            let set = SetPaymentScheduleRequest {
                opportunity_id: deal_id.into(),
                order_id: String::new(),
                instalments: vec![
                    instalment(-10, "30", "down payment"),
                    instalment(60, "70", "on acceptance"),
                ],
                expected_version: 0,
            };
            client
                .set_payment_schedule(api.as_member(&RAVI, set))
                .await
                .map_err(failed("the won deal's payment schedule"))?
                .into_inner()
                .schedule
        }
        Err(status) => return Err(failed("the won deal's payment schedule")(status)),
    };
    let first = schedule
        .and_then(|schedule| schedule.instalments.into_iter().next())
        .and_then(|instalment| instalment.amount)
        .ok_or_else(|| anyhow::anyhow!("demo: the won deal's schedule has no instalment"))?;
    let pay = RecordPaymentRequest {
        opportunity_id: deal_id.into(),
        payment_id: Uuid::from_u128(FIRST_PAYMENT).to_string(),
        amount: Some(first),
        received_on: String::new(),
        method: PaymentMethod::BankTransfer.into(),
        reference: "TT-NW-0001".into(),
    };
    client
        .record_payment(api.as_member(&RAVI, pay))
        .await
        .map_err(failed("the down payment"))?;
    Ok(())
}

/// Ravi's expense `id` on `deal_id`, submitted, and approved by Mei when `approved`.
async fn expense(
    api: &Api,
    id: u128,
    deal_id: &str,
    (category, amount, note): (ExpenseCategory, &str, &str),
    approved: bool,
) -> anyhow::Result<()> {
    let mut client = ExpenseServiceClient::new(api.channel());
    let create = CreateExpenseRequest {
        expense_id: Uuid::from_u128(id).to_string(),
        opportunity_id: deal_id.into(),
        account_id: String::new(),
        expense: Some(ExpenseInput {
            incurred_on: (Utc::now().date_naive() - Duration::days(3)).to_string(),
            category: category.into(),
            amount: Some(Money {
                currency_code: "CNY".into(),
                amount: amount.into(),
            }),
            note: note.into(),
            receipt_reference: format!("RCPT-{}", id & 0xffff),
        }),
    };
    let what = format!("expense {note:?}");
    let mut expense = client
        .create_expense(api.as_member(&RAVI, create))
        .await
        .map_err(failed(&what))?
        .into_inner()
        .expense
        .ok_or_else(|| anyhow::anyhow!("demo: {what} answered nothing"))?;
    if expense.status() == ExpenseStatus::Draft {
        let submit = SubmitExpenseRequest {
            expense_id: expense.id.clone(),
            expected_version: 0,
        };
        expense = client
            .submit_expense(api.as_member(&RAVI, submit))
            .await
            .map_err(failed(&what))?
            .into_inner()
            .expense
            .ok_or_else(|| anyhow::anyhow!("demo: {what} answered nothing"))?;
    }
    if approved && expense.status() == ExpenseStatus::Submitted {
        let approve = ApproveExpenseRequest {
            expense_id: expense.id.clone(),
            note: "agreed before the visit".into(),
            expected_version: 0,
        };
        client
            .approve_expense(api.as_member(&MEI, approve))
            .await
            .map_err(failed(&what))?;
    }
    Ok(())
}

pub(super) async fn load(api: &Api) -> anyhow::Result<()> {
    let won = won_deal(api).await?;
    collections(api, &won).await?;
    let travel = (
        ExpenseCategory::Travel,
        "1280.50",
        "Flights to the acceptance test",
    );
    expense(api, EXPENSE_WON, &won, travel, true).await?;
    let contoso = Uuid::from_u128(CONTOSO_LINE_3).to_string();
    let dinner = (
        ExpenseCategory::Meals,
        "356.00",
        "Dinner with Li Wei after the site visit",
    );
    expense(api, EXPENSE_CONTOSO, &contoso, dinner, false).await?;
    contoso_quote(api, &contoso).await
}

/// The scenario's quote: two Line 3 robot cells and three installation days at 18 % off,
/// submitted, so it waits for Mei (the threshold is 15 %).
async fn contoso_quote(api: &Api, deal_id: &str) -> anyhow::Result<()> {
    let mut quotes = QuoteServiceClient::new(api.channel());
    let line = |code: &str, quantity: &str| QuoteLineInput {
        product_code: code.into(),
        quantity: quantity.into(),
        ..Default::default()
    };
    let create = CreateQuoteRequest {
        opportunity_id: deal_id.into(),
        lines: vec![line(LINE3_ROBOT, "2"), line(INSTALL_DAY, "3")],
        discount_percent: "18".into(),
        notes: "Two Line 3 cells with installation, as discussed with Li Wei".into(),
        quote_id: Uuid::from_u128(CONTOSO_QUOTE).to_string(),
        ..Default::default()
    };
    let quote = quotes
        .create_quote(api.as_member(&RAVI, create))
        .await
        .map_err(failed("the Contoso quote"))?
        .into_inner()
        .quote
        .ok_or_else(|| anyhow::anyhow!("demo: the Contoso quote came back empty"))?;
    if quote.status() == QuoteStatus::Draft {
        let submit = SubmitQuoteRequest {
            quote_id: quote.id,
            expected_version: 0,
        };
        quotes
            .submit_quote(api.as_member(&RAVI, submit))
            .await
            .map_err(failed("submitting the Contoso quote"))?;
    }
    Ok(())
}
