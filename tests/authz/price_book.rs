//! The price book's rows of the matrix (PriceBookService, docs/api.md): every role reads
//! products, price lists and prices (reps price deals from them); admins change them. Run by
//! `opportunities::run_actions` over the same organisation, transports and report; the calls
//! go straight to the service's gRPC API or to the routes the contract annotates.

use crm_proto::crm::{
    common::v1::Money,
    opportunities::v1::{self as pb, price_book_service_client::PriceBookServiceClient},
};
use crm_test_support::authorized;
use tonic::transport::Channel;

use super::super::{DENIED, Expect, Http, OK, Org, Refusal, Report, Role, Transport, Who, no_ids};
use super::run_table;

/// One price book call: the request as the RPC takes it.
#[derive(Clone, Debug)]
pub(crate) enum Call {
    CreateProduct(pb::CreateProductRequest),
    GetProduct(pb::GetProductRequest),
    ListProducts,
    UpdateProduct(pb::UpdateProductRequest),
    CreatePriceList(pb::CreatePriceListRequest),
    ListPriceLists,
    UpdatePriceList(pb::UpdatePriceListRequest),
    SetPrice(pb::SetPriceRequest),
    ListPrices(pb::ListPricesRequest),
}

/// The price book's actions; each cell that changes something acts on a product or list the
/// admin made for it alone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Action {
    CreateProduct,
    GetProduct,
    ListProducts,
    UpdateProduct,
    CreatePriceList,
    ListPriceLists,
    UpdatePriceList,
    SetPrice,
    ListPrices,
}

#[rustfmt::skip]
const ACTIONS: &[(Action, Expect, Expect, Expect)] = &[
    // action                   admin  manager  rep
    (Action::CreateProduct,     OK,    DENIED,  DENIED),
    (Action::GetProduct,        OK,    OK,      OK),
    (Action::ListProducts,      OK,    OK,      OK),
    (Action::UpdateProduct,     OK,    DENIED,  DENIED),
    (Action::CreatePriceList,   OK,    DENIED,  DENIED),
    (Action::ListPriceLists,    OK,    OK,      OK),
    (Action::UpdatePriceList,   OK,    DENIED,  DENIED),
    (Action::SetPrice,          OK,    DENIED,  DENIED),
    (Action::ListPrices,        OK,    OK,      OK),
];

fn book(org: &Org) -> PriceBookServiceClient<Channel> {
    PriceBookServiceClient::new(org.channel.clone())
}

fn new_product(cell: &str) -> pb::CreateProductRequest {
    pb::CreateProductRequest {
        code: format!("P-{cell}"),
        name: format!("Product {cell}"),
        ..Default::default()
    }
}

fn new_price_list(cell: &str) -> pb::CreatePriceListRequest {
    pb::CreatePriceListRequest {
        name: format!("Price list {cell}"),
        currency_code: "CNY".into(),
        ..Default::default()
    }
}

/// A product Ada added for the cell.
async fn product(org: &Org, cell: &str) -> String {
    let request = authorized(new_product(cell), org.token(Who::Ada));
    let made = book(org).create_product(request).await.unwrap();
    made.into_inner().product.unwrap().id
}

/// A price list Ada added for the cell.
async fn price_list(org: &Org, cell: &str) -> String {
    let request = authorized(new_price_list(cell), org.token(Who::Ada));
    let made = book(org).create_price_list(request).await.unwrap();
    made.into_inner().price_list.unwrap().id
}

/// The call an action makes, with a target made for this cell.
async fn prepare(org: &Org, action: Action, role: Role) -> Call {
    let cell = format!(
        "{role:?}-{}",
        &uuid::Uuid::now_v7().simple().to_string()[20..]
    );
    match action {
        Action::CreateProduct => Call::CreateProduct(new_product(&cell)),
        Action::GetProduct => Call::GetProduct(pb::GetProductRequest {
            product_id: product(org, &cell).await,
        }),
        Action::ListProducts => Call::ListProducts,
        Action::UpdateProduct => Call::UpdateProduct(pb::UpdateProductRequest {
            product_id: product(org, &cell).await,
            name: Some(format!("Renamed {cell}")),
            ..Default::default()
        }),
        Action::CreatePriceList => Call::CreatePriceList(new_price_list(&cell)),
        Action::ListPriceLists => Call::ListPriceLists,
        Action::UpdatePriceList => Call::UpdatePriceList(pb::UpdatePriceListRequest {
            price_list_id: price_list(org, &cell).await,
            name: Some(format!("Renamed list {cell}")),
            ..Default::default()
        }),
        Action::SetPrice => Call::SetPrice(pb::SetPriceRequest {
            price_list_id: price_list(org, &cell).await,
            product_id: product(org, &cell).await,
            effective_from: "2027-01-01".into(),
            unit_price: Some(Money {
                currency_code: "CNY".into(),
                amount: "1200.00".into(),
            }),
        }),
        Action::ListPrices => Call::ListPrices(pb::ListPricesRequest {
            price_list_id: price_list(org, &cell).await,
            on: "2027-01-01".into(),
            ..Default::default()
        }),
    }
}

pub(super) async fn run_actions<T: Transport>(org: &Org, transport: &T, report: &mut Report) {
    run_table(org, transport, report, ACTIONS, async |action, role| {
        (
            super::Call::PriceBook(prepare(org, action, role).await),
            None,
        )
    })
    .await;
}

/// A call straight to the service's gRPC API.
pub(crate) async fn grpc(
    client: &PriceBookServiceClient<Channel>,
    token: &str,
    call: Call,
) -> Result<Vec<String>, Refusal> {
    let mut book = client.clone();
    let answered = match call {
        Call::CreateProduct(request) => book
            .create_product(authorized(request, token))
            .await
            .map(no_ids),
        Call::GetProduct(request) => book
            .get_product(authorized(request, token))
            .await
            .map(no_ids),
        Call::ListProducts => book
            .list_products(authorized(pb::ListProductsRequest::default(), token))
            .await
            .map(no_ids),
        Call::UpdateProduct(request) => book
            .update_product(authorized(request, token))
            .await
            .map(no_ids),
        Call::CreatePriceList(request) => book
            .create_price_list(authorized(request, token))
            .await
            .map(no_ids),
        Call::ListPriceLists => book
            .list_price_lists(authorized(pb::ListPriceListsRequest::default(), token))
            .await
            .map(no_ids),
        Call::UpdatePriceList(request) => book
            .update_price_list(authorized(request, token))
            .await
            .map(no_ids),
        Call::SetPrice(request) => book.set_price(authorized(request, token)).await.map(no_ids),
        Call::ListPrices(request) => book
            .list_prices(authorized(request, token))
            .await
            .map(no_ids),
    };
    Ok(answered?)
}

/// A call through the gateway's HTTP/JSON front door.
pub(crate) async fn http(door: &Http, token: &str, call: Call) -> Result<Vec<String>, Refusal> {
    use http::Method;
    let (method, path, body) = match call {
        Call::CreateProduct(request) => (
            Method::POST,
            "/v1/products".into(),
            Some(door.json(&request)),
        ),
        Call::GetProduct(request) => (
            Method::GET,
            format!("/v1/products/{}", request.product_id),
            None,
        ),
        Call::ListProducts => (Method::GET, "/v1/products".into(), None),
        Call::UpdateProduct(request) => (
            Method::PATCH,
            format!("/v1/products/{}", request.product_id),
            Some(door.json(&request)),
        ),
        Call::CreatePriceList(request) => (
            Method::POST,
            "/v1/priceLists".into(),
            Some(door.json(&request)),
        ),
        Call::ListPriceLists => (Method::GET, "/v1/priceLists".into(), None),
        Call::UpdatePriceList(request) => (
            Method::PATCH,
            format!("/v1/priceLists/{}", request.price_list_id),
            Some(door.json(&request)),
        ),
        Call::SetPrice(request) => (
            Method::POST,
            format!("/v1/priceLists/{}/prices", request.price_list_id),
            Some(door.json(&request)),
        ),
        Call::ListPrices(request) => (
            Method::GET,
            format!(
                "/v1/priceLists/{}/prices?on={}",
                request.price_list_id, request.on
            ),
            None,
        ),
    };
    door.send(method, &path, token, body).await.map(no_ids)
}
