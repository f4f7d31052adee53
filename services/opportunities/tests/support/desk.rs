//! The quotes' tests' desk: the scenario's price book (robots and their installation in yuan)
//! and Ravi's open Contoso deal, with the quote and order calls the tests make.

use crm_platform::auth::Caller;
use crm_proto::crm::opportunities::v1 as pb;
use crm_test_support::user;

use super::*;

/// The book of the scenario (robots at 500,000.00, installation at 200,000.00 CNY) and Ravi's
/// open Contoso deal.
pub struct Desk {
    pub harness: Harness,
    pub ravi: Caller,
    pub mei: Caller,
    pub deal_id: String,
}

impl Desk {
    pub async fn open() -> Self {
        let harness = Harness::start().await;
        let admin = harness.admin.clone();
        let ravi = user("rep", EAST_1);
        let mei = user("manager", EAST);
        let list = harness
            .create_list(&admin, price_list("China", "CNY"))
            .await
            .unwrap();
        for (code, name, price) in [
            ("LINE3-ROBOT", "Line 3 robot cell", "500000.00"),
            ("LINE3-INSTALL", "Installation & commissioning", "200000.00"),
        ] {
            let product = product(code, name, "Robotics");
            let product = harness.create_product(&admin, product).await.unwrap();
            let price = money("CNY", price);
            harness
                .set_price(&admin, &list.id, &product.id, &day(-1), price)
                .await
                .unwrap();
        }
        let account_id = harness.publish_account(&ravi).await;
        let create = pb::CreateOpportunityRequest {
            opportunity: Some(pb::OpportunityInput {
                name: "Line 3 automation".into(),
                account_id,
                amount: money("CNY", "900000"),
                expected_close_date: day(60),
                ..Default::default()
            }),
            opportunity_id: String::new(),
        };
        let request = harness.request(&ravi, create);
        let deal = harness.deals.clone().create_opportunity(request).await;
        let deal_id = deal.unwrap().into_inner().opportunity.unwrap().id;
        Self {
            harness,
            ravi,
            mei,
            deal_id,
        }
    }

    pub fn create(&self, discount: &str) -> pb::CreateQuoteRequest {
        let line = |code: &str, quantity: &str| pb::QuoteLineInput {
            product_code: code.into(),
            quantity: quantity.into(),
            ..Default::default()
        };
        pb::CreateQuoteRequest {
            opportunity_id: self.deal_id.clone(),
            lines: vec![line("line3-robot", "2"), line("LINE3-INSTALL", "1")],
            discount_percent: discount.into(),
            ..Default::default()
        }
    }

    pub async fn quote(
        &self,
        caller: &Caller,
        request: pb::CreateQuoteRequest,
    ) -> Result<pb::Quote, tonic::Status> {
        let request = self.harness.request(caller, request);
        let response = self.harness.quotes.clone().create_quote(request).await?;
        Ok(response.into_inner().quote.unwrap())
    }

    pub async fn submit(&self, caller: &Caller, id: &str) -> Result<pb::Quote, tonic::Status> {
        let request = pb::SubmitQuoteRequest {
            quote_id: id.into(),
            expected_version: 0,
        };
        let request = self.harness.request(caller, request);
        let response = self.harness.quotes.clone().submit_quote(request).await?;
        Ok(response.into_inner().quote.unwrap())
    }

    pub async fn approve(&self, caller: &Caller, id: &str) -> Result<pb::Quote, tonic::Status> {
        let request = pb::ApproveQuoteDiscountRequest {
            quote_id: id.into(),
            note: "strategic account, approved for Q4".into(),
            expected_version: 0,
        };
        let request = self.harness.request(caller, request);
        let mut client = self.harness.quotes.clone();
        let response = client.approve_quote_discount(request).await?;
        Ok(response.into_inner().quote.unwrap())
    }

    pub async fn reject(
        &self,
        caller: &Caller,
        id: &str,
        reason: &str,
    ) -> Result<pb::Quote, tonic::Status> {
        let request = pb::RejectQuoteDiscountRequest {
            quote_id: id.into(),
            reason: reason.into(),
            expected_version: 0,
        };
        let request = self.harness.request(caller, request);
        let mut client = self.harness.quotes.clone();
        let response = client.reject_quote_discount(request).await?;
        Ok(response.into_inner().quote.unwrap())
    }

    pub async fn get(&self, id: &str) -> pb::Quote {
        let request = pb::GetQuoteRequest {
            quote_id: id.into(),
        };
        let request = self.harness.request(&self.ravi, request);
        let response = self
            .harness
            .quotes
            .clone()
            .get_quote(request)
            .await
            .unwrap();
        response.into_inner().quote.unwrap()
    }

    /// The outbox's events of an aggregate, by type, oldest first.
    pub async fn events(&self, aggregate_id: &str) -> Vec<String> {
        sqlx::query_scalar("SELECT event_type FROM outbox WHERE aggregate_id = $1 ORDER BY seq")
            .bind(aggregate_id)
            .fetch_all(self.harness.app.pool("opportunities"))
            .await
            .unwrap()
    }
}

pub fn amount(money: &Option<crm_proto::crm::common::v1::Money>) -> String {
    money.as_ref().unwrap().amount.clone()
}

pub fn status(quote: &pb::Quote) -> pb::QuoteStatus {
    quote.status()
}

impl Desk {
    pub async fn issue_as(&self, caller: &Caller, id: &str) -> Result<pb::Quote, tonic::Status> {
        let request = pb::IssueQuoteRequest {
            quote_id: id.into(),
            expected_version: 0,
        };
        let request = self.harness.request(caller, request);
        let response = self.harness.quotes.clone().issue_quote(request).await?;
        Ok(response.into_inner().quote.unwrap())
    }

    pub async fn decline_as(&self, caller: &Caller, id: &str) -> Result<pb::Quote, tonic::Status> {
        let request = pb::DeclineQuoteRequest {
            quote_id: id.into(),
            reason: String::new(),
            expected_version: 0,
        };
        let request = self.harness.request(caller, request);
        let response = self.harness.quotes.clone().decline_quote(request).await?;
        Ok(response.into_inner().quote.unwrap())
    }

    pub async fn update(
        &self,
        request: pb::UpdateQuoteRequest,
    ) -> Result<pb::Quote, tonic::Status> {
        let request = self.harness.request(&self.ravi, request);
        let response = self.harness.quotes.clone().update_quote(request).await?;
        Ok(response.into_inner().quote.unwrap())
    }
}

impl Desk {
    /// The scenario's quote at `discount` submitted, approved by Mei when it must be, issued
    /// and accepted by Ravi: the acceptance's answer (the quote, the deal and the order).
    pub async fn accepted(&self, discount: &str) -> pb::AcceptQuoteResponse {
        let ravi = &self.ravi;
        let quote = self.quote(ravi, self.create(discount)).await.unwrap();
        let submitted = self.submit(ravi, &quote.id).await.unwrap();
        if submitted.status() == pb::QuoteStatus::PendingApproval {
            self.approve(&self.mei, &quote.id).await.unwrap();
        }
        self.issue_as(ravi, &quote.id).await.unwrap();
        let request = pb::AcceptQuoteRequest {
            quote_id: quote.id.clone(),
            expected_version: 0,
        };
        let request = self.harness.request(ravi, request);
        let response = self.harness.quotes.clone().accept_quote(request).await;
        response.unwrap().into_inner()
    }

    /// Records a delivery of `lines` (line number, quantity) of an order.
    pub async fn deliver(
        &self,
        caller: &Caller,
        order_id: &str,
        lines: &[(u32, &str)],
        expected_version: u64,
    ) -> Result<pb::Order, tonic::Status> {
        let request = pb::RecordDeliveryRequest {
            order_id: order_id.into(),
            lines: lines
                .iter()
                .map(|(line_number, quantity)| pb::DeliveredLineInput {
                    line_number: *line_number,
                    quantity: (*quantity).into(),
                })
                .collect(),
            delivered_on: day(0),
            note: "first truck".into(),
            expected_version,
        };
        let request = self.harness.request(caller, request);
        let response = self.harness.orders.clone().record_delivery(request).await?;
        Ok(response.into_inner().order.unwrap())
    }

    pub async fn order(&self, caller: &Caller, id: &str) -> Result<pb::Order, tonic::Status> {
        let request = pb::GetOrderRequest {
            order_id: id.into(),
        };
        let request = self.harness.request(caller, request);
        let response = self.harness.orders.clone().get_order(request).await?;
        Ok(response.into_inner().order.unwrap())
    }

    /// The numbers of every order `caller` lists under `request`'s filters, two a page.
    pub async fn order_numbers(
        &self,
        caller: &Caller,
        request: pb::ListOrdersRequest,
    ) -> Vec<String> {
        every_page(|token| {
            let mut request = request.clone();
            request.page = Some(PageRequest {
                page_size: 2,
                page_token: token,
            });
            async move {
                let request = self.harness.request(caller, request);
                let page = self.harness.orders.clone().list_orders(request).await;
                let page = page.unwrap().into_inner();
                let numbers = page.orders.into_iter().map(|order| order.number).collect();
                (numbers, page.page.unwrap().next_page_token)
            }
        })
        .await
    }
}
