//! Expenses (`ExpenseService`): a rep's expenses on a deal and its account summed by hand beside
//! the won amount, who reads and who decides (the discount's rule), the status rules, the
//! refusals naming their fields and the events with their versions — over a real tonic client
//! against real PostgreSQL and NATS.

mod support;

use crm_platform::{auth::Caller, money::CurrencyCode};
use crm_proto::crm::opportunities::v1::{self as pb, expense_service_client::ExpenseServiceClient};
use crm_test_support::user;
use support::{
    desk::{Desk, amount},
    *,
};
use tonic::{Code, Status, transport::Channel};
use uuid::Uuid;

const WON_FOR_PRICE: &str = "01900000-0000-7000-8000-000000000102";

struct Book {
    desk: Desk,
    client: ExpenseServiceClient<Channel>,
    /// Ravi's won CNY 984,000 deal.
    won_id: String,
    account_id: String,
}

fn input(category: pb::ExpenseCategory, value: &str, on: i64) -> Option<pb::ExpenseInput> {
    Some(pb::ExpenseInput {
        incurred_on: day(on),
        category: category.into(),
        amount: money("CNY", value),
        note: "customer visit".into(),
        receipt_reference: "RCPT-2026-0042".into(),
    })
}

impl Book {
    async fn open() -> Self {
        let desk = Desk::open().await;
        desk.harness.set_corporate_currency(CurrencyCode::CNY).await;
        let account_id = desk.harness.publish_account(&desk.ravi).await;
        let create = pb::CreateOpportunityRequest {
            opportunity: Some(pb::OpportunityInput {
                name: "Line 4 retrofit".into(),
                account_id: account_id.clone(),
                amount: money("CNY", "984000"),
                expected_close_date: day(30),
                ..Default::default()
            }),
            opportunity_id: String::new(),
        };
        let request = desk.harness.request(&desk.ravi, create);
        let deal = desk.harness.deals.clone().create_opportunity(request).await;
        let won_id = deal.unwrap().into_inner().opportunity.unwrap().id;
        let win = pb::MarkWonRequest {
            opportunity_id: won_id.clone(),
            close_reason_id: WON_FOR_PRICE.into(),
            ..Default::default()
        };
        let request = desk.harness.request(&desk.ravi, win);
        desk.harness.deals.clone().mark_won(request).await.unwrap();
        let client = ExpenseServiceClient::new(desk.harness.app.channel().await);
        Self {
            desk,
            client,
            won_id,
            account_id,
        }
    }

    async fn create(
        &self,
        caller: &Caller,
        request: pb::CreateExpenseRequest,
    ) -> Result<pb::Expense, Status> {
        let request = self.desk.harness.request(caller, request);
        let response = self.client.clone().create_expense(request).await?;
        Ok(response.into_inner().expense.unwrap())
    }

    async fn on_deal(&self, value: &str) -> pb::Expense {
        let request = pb::CreateExpenseRequest {
            opportunity_id: self.won_id.clone(),
            expense: input(pb::ExpenseCategory::Travel, value, -3),
            ..Default::default()
        };
        self.create(&self.desk.ravi, request).await.unwrap()
    }

    async fn submit(&self, caller: &Caller, id: &str) -> Result<pb::Expense, Status> {
        let request = pb::SubmitExpenseRequest {
            expense_id: id.into(),
            expected_version: 0,
        };
        let request = self.desk.harness.request(caller, request);
        let response = self.client.clone().submit_expense(request).await?;
        Ok(response.into_inner().expense.unwrap())
    }

    async fn approve(&self, caller: &Caller, id: &str) -> Result<pb::Expense, Status> {
        let request = pb::ApproveExpenseRequest {
            expense_id: id.into(),
            note: "fine".into(),
            expected_version: 0,
        };
        let request = self.desk.harness.request(caller, request);
        let response = self.client.clone().approve_expense(request).await?;
        Ok(response.into_inner().expense.unwrap())
    }

    async fn reject(&self, caller: &Caller, id: &str, reason: &str) -> Result<pb::Expense, Status> {
        let request = pb::RejectExpenseRequest {
            expense_id: id.into(),
            reason: reason.into(),
            expected_version: 0,
        };
        let request = self.desk.harness.request(caller, request);
        let response = self.client.clone().reject_expense(request).await?;
        Ok(response.into_inner().expense.unwrap())
    }

    async fn get(&self, caller: &Caller, id: &str) -> Result<pb::Expense, Status> {
        let request = pb::GetExpenseRequest {
            expense_id: id.into(),
        };
        let request = self.desk.harness.request(caller, request);
        let response = self.client.clone().get_expense(request).await?;
        Ok(response.into_inner().expense.unwrap())
    }

    async fn list(&self, caller: &Caller, request: pb::ListExpensesRequest) -> Vec<String> {
        let request = self.desk.harness.request(caller, request);
        let response = self.client.clone().list_expenses(request).await.unwrap();
        response
            .into_inner()
            .expenses
            .into_iter()
            .map(|expense| expense.id)
            .collect()
    }

    async fn summary(
        &self,
        caller: &Caller,
        request: pb::GetExpenseSummaryRequest,
    ) -> Result<pb::ExpenseSummary, Status> {
        let request = self.desk.harness.request(caller, request);
        let response = self.client.clone().get_expense_summary(request).await?;
        Ok(response.into_inner().summary.unwrap())
    }

    /// The outbox's (event type, aggregate version) of an expense, oldest first.
    async fn events(&self, id: &str) -> Vec<(String, i64)> {
        sqlx::query_as(
            "SELECT event_type, aggregate_version FROM outbox WHERE aggregate_id = $1 ORDER BY seq",
        )
        .bind(id)
        .fetch_all(self.desk.harness.app.pool("opportunities"))
        .await
        .unwrap()
    }
}

fn amounts(list: &[crm_proto::crm::common::v1::Money]) -> Vec<(String, String)> {
    list.iter()
        .map(|m| (m.currency_code.clone(), m.amount.clone()))
        .collect()
}

/// CNY 1,280.50 + 356.00 approved and 99.90 submitted on a won CNY 984,000 deal: approved
/// 1,636.50, the cost of sale 1,636.50 / 984,000 × 100 = 0.1663… → 0.17 %; the account's summary
/// adds an expense on the account itself (CNY 63.50 approved): 1,700.00 / 984,000 → 0.17 %
/// (0.1727…); drafts and rejected ones count for nothing.
#[tokio::test]
async fn totals_and_the_cost_of_sale_by_hand() {
    let book = Book::open().await;
    let (ravi, mei) = (&book.desk.ravi, &book.desk.mei);
    for value in ["1280.50", "356.00"] {
        let expense = book.on_deal(value).await;
        book.submit(ravi, &expense.id).await.unwrap();
        book.approve(mei, &expense.id).await.unwrap();
    }
    let waiting = book.on_deal("99.90").await;
    book.submit(ravi, &waiting.id).await.unwrap();
    book.on_deal("5000").await;
    let turned_down = book.on_deal("700").await;
    book.submit(ravi, &turned_down.id).await.unwrap();
    book.reject(mei, &turned_down.id, "no receipt")
        .await
        .unwrap();
    let on_account = pb::CreateExpenseRequest {
        account_id: book.account_id.clone(),
        expense: input(pb::ExpenseCategory::Meals, "63.50", -1),
        ..Default::default()
    };
    let on_account = book.create(ravi, on_account).await.unwrap();
    assert_eq!(on_account.account_id, book.account_id);
    assert!(on_account.opportunity_id.is_empty());
    book.submit(ravi, &on_account.id).await.unwrap();
    book.approve(mei, &on_account.id).await.unwrap();

    let of_deal = pb::GetExpenseSummaryRequest {
        opportunity_id: book.won_id.clone(),
        ..Default::default()
    };
    let deal = book.summary(ravi, of_deal).await.unwrap();
    assert_eq!(amounts(&deal.approved), [("CNY".into(), "1636.5".into())]);
    assert_eq!(amounts(&deal.submitted), [("CNY".into(), "99.9".into())]);
    assert_eq!(amount(&deal.approved_corporate), "1636.5");
    assert_eq!(amount(&deal.won_corporate), "984000");
    assert_eq!(deal.cost_of_sale_percent, "0.17");
    assert_eq!(deal.unconverted, 0);

    let of_account = pb::GetExpenseSummaryRequest {
        account_id: book.account_id.clone(),
        ..Default::default()
    };
    let customer = book.summary(mei, of_account).await.unwrap();
    assert_eq!(amounts(&customer.approved), [("CNY".into(), "1700".into())]);
    assert_eq!(amount(&customer.approved_corporate), "1700");
    assert_eq!(customer.cost_of_sale_percent, "0.17");

    let both = pb::GetExpenseSummaryRequest {
        opportunity_id: book.won_id.clone(),
        account_id: book.account_id.clone(),
    };
    let both = book.summary(ravi, both).await.unwrap_err();
    assert_eq!(both.code(), Code::FailedPrecondition);
    assert_eq!(reason(&both), "INCONSISTENT_FIELDS");
    assert_eq!(fields(&both), ["opportunity_id"]);
}

/// The owner reads their own, their manager the team's, another rep gets NOT_FOUND; the owner
/// never approves their own, nor does a manager outside the owner's subtree (who does not even
/// see it); a decided expense is not decided again.
#[tokio::test]
async fn who_reads_and_who_decides() {
    let book = Book::open().await;
    let (ravi, mei) = (&book.desk.ravi, &book.desk.mei);
    let omar = user("rep", EAST_1);
    let west = user("manager", "/northwind/west/");
    let admin = book.desk.harness.admin.clone();
    let expense = book.on_deal("420.00").await;
    assert_eq!(book.get(mei, &expense.id).await.unwrap().id, expense.id);
    let hidden = book.get(&omar, &expense.id).await.unwrap_err();
    assert_eq!(hidden.code(), Code::NotFound);
    let mine = pb::ListExpensesRequest::default();
    assert_eq!(
        book.list(ravi, mine.clone()).await,
        vec![expense.id.clone()]
    );
    assert_eq!(book.list(mei, mine.clone()).await, vec![expense.id.clone()]);
    assert!(book.list(&omar, mine.clone()).await.is_empty());
    assert!(book.list(&west, mine).await.is_empty());

    let early = book.approve(mei, &expense.id).await.unwrap_err();
    assert_eq!(early.code(), Code::FailedPrecondition);
    assert_eq!(reason(&early), "EXPENSE_STATUS_NOT_ALLOWED");
    let submitted = book.submit(ravi, &expense.id).await.unwrap();
    assert_eq!(submitted.status(), pb::ExpenseStatus::Submitted);
    let audit = submitted.audit.clone().unwrap();
    assert_eq!(audit.submitted_by, ravi.user_id.to_string());

    let own = book.approve(ravi, &expense.id).await.unwrap_err();
    assert_eq!(own.code(), Code::PermissionDenied);
    let outside = book.approve(&west, &expense.id).await.unwrap_err();
    assert_eq!(outside.code(), Code::NotFound);
    let peer = book.approve(&omar, &expense.id).await.unwrap_err();
    assert_eq!(peer.code(), Code::NotFound);
    assert_eq!(
        book.get(ravi, &expense.id).await.unwrap().status(),
        pb::ExpenseStatus::Submitted
    );

    let approved = book.approve(mei, &expense.id).await.unwrap();
    assert_eq!(approved.status(), pb::ExpenseStatus::Approved);
    let audit = approved.audit.unwrap();
    assert_eq!(audit.decided_by, mei.user_id.to_string());
    assert_eq!(audit.decision(), pb::ExpenseStatus::Approved);
    assert!(audit.decided_at.is_some());
    let twice = book.approve(&admin, &expense.id).await.unwrap_err();
    assert_eq!(twice.code(), Code::FailedPrecondition);
    assert_eq!(reason(&twice), "EXPENSE_STATUS_NOT_ALLOWED");
    let changed = pb::UpdateExpenseRequest {
        expense_id: expense.id.clone(),
        expense: input(pb::ExpenseCategory::Travel, "1.00", 0),
        expected_version: 0,
    };
    let request = book.desk.harness.request(ravi, changed);
    let changed = book.client.clone().update_expense(request).await;
    assert_eq!(changed.unwrap_err().code(), Code::FailedPrecondition);
}

/// A rejection names its reason; the owner changes and resubmits; an admin approves. Each
/// submission and decision is one event at the expense's version; a create is idempotent by id.
#[tokio::test]
async fn events_once_with_versions_and_a_retried_create() {
    let book = Book::open().await;
    let (ravi, mei) = (&book.desk.ravi, &book.desk.mei);
    let id = Uuid::now_v7().to_string();
    let create = pb::CreateExpenseRequest {
        expense_id: id.clone(),
        opportunity_id: book.won_id.clone(),
        expense: input(pb::ExpenseCategory::Gifts, "880.00", -2),
        ..Default::default()
    };
    let first = book.create(ravi, create.clone()).await.unwrap();
    let again = book.create(ravi, create.clone()).await.unwrap();
    assert_eq!((first.id.as_str(), again.version), (id.as_str(), 1));
    let taken = book.create(mei, create).await.unwrap_err();
    assert_eq!(taken.code(), Code::AlreadyExists);

    let no_reason = book.reject(mei, &id, " ").await.unwrap_err();
    assert_eq!(no_reason.code(), Code::InvalidArgument);
    assert_eq!(fields(&no_reason), ["reason"]);
    book.submit(ravi, &id).await.unwrap();
    let rejected = book
        .reject(mei, &id, "gifts over CNY 500 need a form")
        .await
        .unwrap();
    assert_eq!(rejected.status(), pb::ExpenseStatus::Rejected);
    assert_eq!(
        rejected.audit.unwrap().reason,
        "gifts over CNY 500 need a form"
    );
    let changed = pb::UpdateExpenseRequest {
        expense_id: id.clone(),
        expense: input(pb::ExpenseCategory::Gifts, "480.00", -2),
        expected_version: 3,
    };
    let request = book.desk.harness.request(ravi, changed);
    let changed = book.client.clone().update_expense(request).await.unwrap();
    assert_eq!(changed.into_inner().expense.unwrap().version, 4);
    let resubmitted = book.submit(ravi, &id).await.unwrap();
    assert!(resubmitted.audit.unwrap().decided_by.is_empty());
    let admin = book.desk.harness.admin.clone();
    let approved = book.approve(&admin, &id).await.unwrap();
    assert_eq!(approved.version, 6);
    assert_eq!(amount(&approved.amount), "480");
    let events = book.events(&id).await;
    let expected: Vec<(String, i64)> = [
        ("crm.opportunities.v1.ExpenseSubmitted", 2),
        ("crm.opportunities.v1.ExpenseRejected", 3),
        ("crm.opportunities.v1.ExpenseSubmitted", 5),
        ("crm.opportunities.v1.ExpenseApproved", 6),
    ]
    .into_iter()
    .map(|(kind, version)| (kind.to_owned(), version))
    .collect();
    assert_eq!(events, expected);
}

/// What the schema cannot say is a 422 naming the field: both or neither of deal and account,
/// an amount not above zero, a day in the future; a deal out of reach is no usable reference.
#[tokio::test]
async fn refusals_name_their_fields() {
    let book = Book::open().await;
    let ravi = &book.desk.ravi;
    let neither = pb::CreateExpenseRequest {
        expense: input(pb::ExpenseCategory::Meals, "10.00", 0),
        ..Default::default()
    };
    let neither = book.create(ravi, neither).await.unwrap_err();
    assert_eq!(neither.code(), Code::FailedPrecondition);
    assert_eq!(reason(&neither), "INCONSISTENT_FIELDS");
    assert_eq!(fields(&neither), ["opportunity_id"]);
    let both = pb::CreateExpenseRequest {
        opportunity_id: book.won_id.clone(),
        account_id: book.account_id.clone(),
        expense: input(pb::ExpenseCategory::Meals, "10.00", 0),
        ..Default::default()
    };
    assert_eq!(
        fields(&book.create(ravi, both).await.unwrap_err()),
        ["opportunity_id"]
    );
    let bad = pb::CreateExpenseRequest {
        opportunity_id: book.won_id.clone(),
        expense: input(pb::ExpenseCategory::Meals, "0", 2),
        ..Default::default()
    };
    let bad = book.create(ravi, bad).await.unwrap_err();
    assert_eq!(bad.code(), Code::FailedPrecondition);
    assert_eq!(reason(&bad), "INCONSISTENT_FIELDS");
    assert_eq!(
        fields(&bad),
        ["expense.amount.amount", "expense.incurred_on"]
    );
    let unspecified = pb::CreateExpenseRequest {
        opportunity_id: book.won_id.clone(),
        expense: input(pb::ExpenseCategory::Unspecified, "10.00", 0),
        ..Default::default()
    };
    let unspecified = book.create(ravi, unspecified).await.unwrap_err();
    assert_eq!(unspecified.code(), Code::InvalidArgument);
    assert_eq!(fields(&unspecified), ["expense.category"]);
    let omar = user("rep", EAST_1);
    let foreign = pb::CreateExpenseRequest {
        opportunity_id: book.won_id.clone(),
        expense: input(pb::ExpenseCategory::Meals, "10.00", 0),
        ..Default::default()
    };
    let foreign = book.create(&omar, foreign).await.unwrap_err();
    assert_eq!(foreign.code(), Code::FailedPrecondition);
    assert_eq!(fields(&foreign), ["opportunity_id"]);
    assert!(
        book.events(&book.won_id)
            .await
            .iter()
            .all(|(kind, _)| !kind.contains("Expense"))
    );
}
