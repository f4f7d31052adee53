//! What the price book's, quotes', orders' and care's tests share: a harness with the book's,
//! the deals', the quotes' and the orders' clients, the accounts service's records published as
//! its events (once replicated here), and the requests and answers they read.
#![allow(dead_code)] // each test binary uses its own part

pub mod desk;
pub mod log;

use std::time::Duration;

use chrono::{Days, Utc};
use crm_platform::{
    auth::Caller,
    events,
    money::CurrencyCode,
    org::{OrgDirectory, OrgSettings},
};
use crm_proto::crm::{
    accounts::v1 as accounts,
    common::v1::{Money, PageRequest},
    opportunities::v1::{
        self as pb, activity_service_client::ActivityServiceClient,
        opportunity_service_client::OpportunityServiceClient,
        order_service_client::OrderServiceClient,
        price_book_service_client::PriceBookServiceClient,
        quote_service_client::QuoteServiceClient,
    },
};
use crm_test_support::{TestApp, authorized, eventually, every_page, user};
use tonic::{Status, transport::Channel};
use tonic_types::StatusExt;
use uuid::Uuid;

pub const NORTHWIND: &str = "/northwind/";
pub const EAST: &str = "/northwind/east/";
pub const EAST_1: &str = "/northwind/east/east-1/";

pub struct Harness {
    pub app: TestApp,
    pub book: PriceBookServiceClient<Channel>,
    pub deals: OpportunityServiceClient<Channel>,
    pub quotes: QuoteServiceClient<Channel>,
    pub orders: OrderServiceClient<Channel>,
    pub activities: ActivityServiceClient<Channel>,
    pub admin: Caller,
}

pub fn money(currency: &str, amount: &str) -> Option<Money> {
    Some(Money {
        currency_code: currency.into(),
        amount: amount.into(),
    })
}

pub fn fields(status: &Status) -> Vec<String> {
    let details = status.get_error_details();
    let violations = details.bad_request().map(|r| r.field_violations.clone());
    violations
        .unwrap_or_default()
        .into_iter()
        .map(|violation| violation.field)
        .collect()
}

pub fn reason(status: &Status) -> String {
    let details = status.get_error_details();
    details
        .error_info()
        .map(|info| info.reason.clone())
        .unwrap_or_default()
}

pub fn product(code: &str, name: &str, family: &str) -> pb::CreateProductRequest {
    pb::CreateProductRequest {
        code: code.into(),
        name: name.into(),
        family: family.into(),
        ..Default::default()
    }
}

pub fn price_list(name: &str, currency: &str) -> pb::CreatePriceListRequest {
    pb::CreatePriceListRequest {
        name: name.into(),
        currency_code: currency.into(),
        ..Default::default()
    }
}

/// `days` from today (UTC), as the wire writes a date.
pub fn day(days: i64) -> String {
    let today = Utc::now().date_naive();
    let shifted = if days >= 0 {
        today.checked_add_days(Days::new(days as u64))
    } else {
        today.checked_sub_days(Days::new(days.unsigned_abs()))
    };
    shifted.unwrap().to_string()
}

impl Harness {
    pub async fn start() -> Self {
        let app = TestApp::spawn(&[crm_opportunities::module()]).await;
        let channel = app.channel().await;
        Self {
            book: PriceBookServiceClient::new(channel.clone()),
            deals: OpportunityServiceClient::new(channel.clone()),
            quotes: QuoteServiceClient::new(channel.clone()),
            orders: OrderServiceClient::new(channel.clone()),
            activities: ActivityServiceClient::new(channel),
            app,
            admin: user("admin", NORTHWIND),
        }
    }

    /// Files the organisation's corporate currency in the service's directory, as the
    /// gateway's `org_settings_updated` would (version 1).
    pub async fn set_corporate_currency(&self, currency: CurrencyCode) {
        let mut connection = self.app.pool("opportunities").acquire().await.unwrap();
        let settings = OrgSettings {
            corporate_currency: Some(currency),
            version: 1,
            ..OrgSettings::default()
        };
        OrgDirectory::record_settings(&mut connection, &settings)
            .await
            .unwrap();
    }

    pub fn request<T>(&self, caller: &Caller, message: T) -> tonic::Request<T> {
        authorized(message, &self.app.token(caller))
    }

    pub async fn create_product(
        &self,
        caller: &Caller,
        request: pb::CreateProductRequest,
    ) -> Result<pb::Product, Status> {
        let request = self.request(caller, request);
        let response = self.book.clone().create_product(request).await?;
        Ok(response.into_inner().product.unwrap())
    }

    pub async fn update_product(
        &self,
        caller: &Caller,
        request: pb::UpdateProductRequest,
    ) -> Result<pb::Product, Status> {
        let request = self.request(caller, request);
        let response = self.book.clone().update_product(request).await?;
        Ok(response.into_inner().product.unwrap())
    }

    pub async fn list_products(&self, request: pb::ListProductsRequest) -> Vec<String> {
        every_page(|token| {
            let mut request = request.clone();
            request.page = Some(PageRequest {
                page_size: 2,
                page_token: token,
            });
            async move {
                let request = self.request(&self.admin, request);
                let page = self.book.clone().list_products(request).await.unwrap();
                let page = page.into_inner();
                let codes = page.products.into_iter().map(|p| p.code).collect();
                (codes, page.page.unwrap().next_page_token)
            }
        })
        .await
    }

    pub async fn create_list(
        &self,
        caller: &Caller,
        request: pb::CreatePriceListRequest,
    ) -> Result<pb::PriceList, Status> {
        let request = self.request(caller, request);
        let response = self.book.clone().create_price_list(request).await?;
        Ok(response.into_inner().price_list.unwrap())
    }

    pub async fn update_list(
        &self,
        caller: &Caller,
        request: pb::UpdatePriceListRequest,
    ) -> Result<pb::PriceList, Status> {
        let request = self.request(caller, request);
        let response = self.book.clone().update_price_list(request).await?;
        Ok(response.into_inner().price_list.unwrap())
    }

    /// The lists of `currency` (all when empty), inactive ones too, as "name*" for the default.
    pub async fn lists(&self, currency: &str) -> Vec<String> {
        let request = pb::ListPriceListsRequest {
            currency_code: currency.into(),
            include_inactive: true,
        };
        let request = self.request(&self.admin, request);
        let response = self.book.clone().list_price_lists(request).await.unwrap();
        let lists = response.into_inner().price_lists;
        let mark = |list: &pb::PriceList| if list.is_default { "*" } else { "" };
        lists
            .iter()
            .map(|list| format!("{}{}", list.name, mark(list)))
            .collect()
    }

    pub async fn set_price(
        &self,
        caller: &Caller,
        list: &str,
        product: &str,
        from: &str,
        price: Option<Money>,
    ) -> Result<pb::PriceEntry, Status> {
        let request = pb::SetPriceRequest {
            price_list_id: list.into(),
            product_id: product.into(),
            effective_from: from.into(),
            unit_price: price,
        };
        let response = self
            .book
            .clone()
            .set_price(self.request(caller, request))
            .await?;
        Ok(response.into_inner().price.unwrap())
    }

    /// Every price of a list (pages of two) as "CODE from amount".
    pub async fn prices(
        &self,
        caller: &Caller,
        list: &str,
        on: &str,
        product: &str,
    ) -> Vec<String> {
        every_page(|token| {
            let request = pb::ListPricesRequest {
                price_list_id: list.into(),
                product_id: product.into(),
                on: on.into(),
                page: Some(PageRequest {
                    page_size: 2,
                    page_token: token,
                }),
            };
            async move {
                let request = self.request(caller, request);
                let page = self.book.clone().list_prices(request).await.unwrap();
                let page = page.into_inner();
                let prices = page.prices.iter().map(|entry| {
                    let price = entry.unit_price.as_ref().unwrap();
                    let amount = &price.amount;
                    format!("{} {} {amount}", entry.product_code, entry.effective_from)
                });
                (prices.collect(), page.page.unwrap().next_page_token)
            }
        })
        .await
    }

    /// An account of `owner` as the accounts service would publish it, once the service knows it.
    pub async fn publish_account(&self, owner: &Caller) -> String {
        let context = self.app.services.context("opportunities").unwrap();
        let (jetstream, naming) = (&context.jetstream, &context.naming);
        let window = Duration::from_secs(120);
        events::ensure_stream(jetstream, naming, "accounts", window)
            .await
            .unwrap();
        let account_id = Uuid::now_v7().to_string();
        let created = accounts::AccountCreated {
            account: Some(accounts::Account {
                id: account_id.clone(),
                name: "Contoso".into(),
                owner_id: owner.user_id.to_string(),
                owner_team_path: owner.team_path.to_string(),
                status: accounts::AccountStatus::Active.into(),
                version: 1,
                ..Default::default()
            }),
        };
        self.app.publish_event("opportunities", &created).await;
        self.replicated("account_replicas", &account_id, 1, "the account is known")
            .await;
        account_id
    }

    /// A contact as the accounts service publishes it — created at version 1, updated at any
    /// other — once the service knows it at that version (or a newer one).
    pub async fn publish_contact(&self, contact: accounts::Contact) {
        let (id, version) = (contact.id.clone(), contact.version);
        if version == 1 {
            let event = accounts::ContactCreated {
                contact: Some(contact),
            };
            self.app.publish_event("opportunities", &event).await;
        } else {
            let event = accounts::ContactUpdated {
                contact: Some(contact),
                ..Default::default()
            };
            self.app.publish_event("opportunities", &event).await;
        }
        self.replicated("contact_replicas", &id, version, "the contact is known")
            .await;
    }

    /// Waits until the replica `table` holds record `id` at `version` or newer.
    async fn replicated(&self, table: &str, id: &str, version: u64, what: &str) {
        let known =
            format!("SELECT count(*) FROM {table} WHERE id = '{id}' AND version >= {version}");
        eventually(Duration::from_secs(15), what, || async {
            self.count(&known).await == 1
        })
        .await;
    }

    /// What a count query of the service's database answers.
    pub async fn count(&self, sql: &str) -> i64 {
        sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned()))
            .fetch_one(self.app.pool("opportunities"))
            .await
            .unwrap()
    }

    /// How many events of `event_type` (its full name) the service's outbox holds.
    pub async fn event_count(&self, event_type: &str) -> i64 {
        sqlx::query_scalar("SELECT count(*) FROM outbox WHERE event_type = $1")
            .bind(event_type)
            .fetch_one(self.app.pool("opportunities"))
            .await
            .unwrap()
    }
}
