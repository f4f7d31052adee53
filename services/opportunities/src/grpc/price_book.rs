//! The price book's RPCs (`PriceBookService`): requests to domain inputs, every broken field
//! named at once, as the request spells it.

use crm_platform::{
    error::Violations,
    ids::{expected_version, parse_id},
    money::{CurrencyCode, Money, Sign},
    paging::{KeyKind, Page, SortOrder},
    time::to_timestamp,
};
use crm_proto::crm::{
    common::v1::PageResponse,
    opportunities::v1::{self as pb, price_book_service_server::PriceBookService},
};
use tonic::{Request, Response, Status};

use super::authenticated;
use crate::{
    domain::price_book::{
        DEFAULT_UNIT, MAX_CODE, MAX_DESCRIPTION, MAX_FAMILY, MAX_NAME, MAX_UNIT, NewPriceList,
        NewProduct, PriceEntry, PriceList, PriceListChanges, Product, ProductChanges,
        optional_text, required_text,
    },
    error::OpportunitiesError,
    service::Opportunities,
    store::price_book::ProductFilter,
};

/// Products page by code; a list's dated prices by day, newest first; the prices in force on
/// a day by product code.
const PRODUCTS_BY_CODE: SortOrder = SortOrder::new("code", KeyKind::Text, false);
const PRICES_BY_DAY: SortOrder = SortOrder::new("effective_from", KeyKind::Date, true);
const PRICES_ON_A_DAY: SortOrder = SortOrder::new("code", KeyKind::Text, false);

pub(crate) struct PriceBookApi {
    opportunities: Opportunities,
}

impl PriceBookApi {
    pub(crate) fn new(opportunities: Opportunities) -> Self {
        Self { opportunities }
    }
}

fn currency(violations: &mut Violations, field: &str, value: &str) -> Option<CurrencyCode> {
    violations.check(field, value.trim().parse::<CurrencyCode>())
}

fn product_message(product: &Product) -> pb::Product {
    pb::Product {
        id: product.id.to_string(),
        code: product.code.clone(),
        name: product.name.clone(),
        family: product.family.clone(),
        unit: product.unit.clone(),
        description: product.description.clone(),
        active: product.active,
        version: product.version as u64,
        created_at: Some(to_timestamp(product.created_at)),
        updated_at: Some(to_timestamp(product.updated_at)),
    }
}

fn price_list_message(list: &PriceList) -> pb::PriceList {
    pb::PriceList {
        id: list.id.to_string(),
        name: list.name.clone(),
        currency_code: list.currency.to_string(),
        description: list.description.clone(),
        is_default: list.is_default,
        active: list.active,
        version: list.version as u64,
    }
}

fn price_message(entry: &PriceEntry) -> pb::PriceEntry {
    pb::PriceEntry {
        price_list_id: entry.price_list_id.to_string(),
        product_id: entry.product_id.to_string(),
        product_code: entry.product_code.clone(),
        product_name: entry.product_name.clone(),
        effective_from: entry.effective_from.to_string(),
        unit_price: Some(entry.unit_price.to_message()),
        set_at: Some(to_timestamp(entry.set_at)),
        set_by: entry.set_by.map(|id| id.to_string()).unwrap_or_default(),
    }
}

fn version(value: u64) -> Result<Option<i64>, Status> {
    expected_version("expected_version", value)
        .map_err(|violation| OpportunitiesError::from(violation).into())
}

fn id(field: &str, value: &str) -> Result<uuid::Uuid, Status> {
    parse_id(field, value).map_err(|violation| OpportunitiesError::from(violation).into())
}

#[tonic::async_trait]
impl PriceBookService for PriceBookApi {
    async fn create_product(
        &self,
        request: Request<pb::CreateProductRequest>,
    ) -> Result<Response<pb::CreateProductResponse>, Status> {
        let caller = authenticated(&request)?;
        let request = request.into_inner();
        let mut violations = Violations::new();
        let id = violations.optional_id("product_id", &request.product_id);
        let code = required_text(&mut violations, "code", &request.code, MAX_CODE);
        let name = required_text(&mut violations, "name", &request.name, MAX_NAME);
        let family = optional_text(&mut violations, "family", &request.family, MAX_FAMILY);
        let unit = optional_text(&mut violations, "unit", &request.unit, MAX_UNIT);
        let description = optional_text(
            &mut violations,
            "description",
            &request.description,
            MAX_DESCRIPTION,
        );
        violations.into_result().map_err(OpportunitiesError::from)?;
        let new = NewProduct {
            id,
            code,
            name,
            family,
            unit: if unit.is_empty() {
                DEFAULT_UNIT.to_owned()
            } else {
                unit
            },
            description,
        };
        let product = self.opportunities.create_product(&caller, new).await?;
        Ok(Response::new(pb::CreateProductResponse {
            product: Some(product_message(&product)),
        }))
    }

    async fn get_product(
        &self,
        request: Request<pb::GetProductRequest>,
    ) -> Result<Response<pb::GetProductResponse>, Status> {
        let caller = authenticated(&request)?;
        let product_id = id("product_id", &request.get_ref().product_id)?;
        let product = self.opportunities.get_product(&caller, product_id).await?;
        Ok(Response::new(pb::GetProductResponse {
            product: Some(product_message(&product)),
        }))
    }

    async fn list_products(
        &self,
        request: Request<pb::ListProductsRequest>,
    ) -> Result<Response<pb::ListProductsResponse>, Status> {
        let caller = authenticated(&request)?;
        let request = request.into_inner();
        let mut violations = Violations::new();
        let family = optional_text(&mut violations, "family", &request.family, MAX_FAMILY);
        let text = optional_text(&mut violations, "text", &request.text, MAX_NAME);
        violations.into_result().map_err(OpportunitiesError::from)?;
        let page = Page::parse(request.page.as_ref(), PRODUCTS_BY_CODE)
            .map_err(OpportunitiesError::from)?;
        let filter = ProductFilter {
            family: Some(family).filter(|family| !family.is_empty()),
            include_inactive: request.include_inactive,
            text: Some(text).filter(|text| !text.is_empty()),
        };
        let listing = self
            .opportunities
            .list_products(&caller, &filter, &page)
            .await?;
        Ok(Response::new(pb::ListProductsResponse {
            products: listing.records.iter().map(product_message).collect(),
            page: Some(PageResponse {
                next_page_token: listing.next_page_token,
            }),
        }))
    }

    async fn update_product(
        &self,
        request: Request<pb::UpdateProductRequest>,
    ) -> Result<Response<pb::UpdateProductResponse>, Status> {
        let caller = authenticated(&request)?;
        let request = request.into_inner();
        let product_id = id("product_id", &request.product_id)?;
        let mut violations = Violations::new();
        let changes = ProductChanges {
            name: request
                .name
                .map(|name| required_text(&mut violations, "name", &name, MAX_NAME)),
            family: request
                .family
                .map(|text| optional_text(&mut violations, "family", &text, MAX_FAMILY)),
            unit: request
                .unit
                .map(|unit| required_text(&mut violations, "unit", &unit, MAX_UNIT)),
            description: request
                .description
                .map(|text| optional_text(&mut violations, "description", &text, MAX_DESCRIPTION)),
            active: request.active,
        };
        violations.into_result().map_err(OpportunitiesError::from)?;
        let product = self
            .opportunities
            .update_product(
                &caller,
                product_id,
                changes,
                version(request.expected_version)?,
            )
            .await?;
        Ok(Response::new(pb::UpdateProductResponse {
            product: Some(product_message(&product)),
        }))
    }

    async fn create_price_list(
        &self,
        request: Request<pb::CreatePriceListRequest>,
    ) -> Result<Response<pb::CreatePriceListResponse>, Status> {
        let caller = authenticated(&request)?;
        let request = request.into_inner();
        let mut violations = Violations::new();
        let id = violations.optional_id("price_list_id", &request.price_list_id);
        let name = required_text(&mut violations, "name", &request.name, MAX_NAME);
        let currency = currency(&mut violations, "currency_code", &request.currency_code);
        let description = optional_text(
            &mut violations,
            "description",
            &request.description,
            MAX_DESCRIPTION,
        );
        violations.into_result().map_err(OpportunitiesError::from)?;
        let Some(currency) = currency else {
            return Err(OpportunitiesError::invalid("currency_code", "is required").into());
        };
        let list = self
            .opportunities
            .create_price_list(
                &caller,
                NewPriceList {
                    id,
                    name,
                    currency,
                    description,
                    make_default: request.make_default,
                },
            )
            .await?;
        Ok(Response::new(pb::CreatePriceListResponse {
            price_list: Some(price_list_message(&list)),
        }))
    }

    async fn list_price_lists(
        &self,
        request: Request<pb::ListPriceListsRequest>,
    ) -> Result<Response<pb::ListPriceListsResponse>, Status> {
        let caller = authenticated(&request)?;
        let request = request.into_inner();
        let mut violations = Violations::new();
        let currency = match request.currency_code.trim() {
            "" => None,
            code => currency(&mut violations, "currency_code", code),
        };
        violations.into_result().map_err(OpportunitiesError::from)?;
        let lists = self
            .opportunities
            .list_price_lists(&caller, currency, request.include_inactive)
            .await?;
        Ok(Response::new(pb::ListPriceListsResponse {
            price_lists: lists.iter().map(price_list_message).collect(),
        }))
    }

    async fn update_price_list(
        &self,
        request: Request<pb::UpdatePriceListRequest>,
    ) -> Result<Response<pb::UpdatePriceListResponse>, Status> {
        let caller = authenticated(&request)?;
        let request = request.into_inner();
        let list_id = id("price_list_id", &request.price_list_id)?;
        let mut violations = Violations::new();
        let changes = PriceListChanges {
            name: request
                .name
                .map(|name| required_text(&mut violations, "name", &name, MAX_NAME)),
            description: request
                .description
                .map(|text| optional_text(&mut violations, "description", &text, MAX_DESCRIPTION)),
            active: request.active,
            make_default: request.make_default,
        };
        violations.into_result().map_err(OpportunitiesError::from)?;
        let list = self
            .opportunities
            .update_price_list(
                &caller,
                list_id,
                changes,
                version(request.expected_version)?,
            )
            .await?;
        Ok(Response::new(pb::UpdatePriceListResponse {
            price_list: Some(price_list_message(&list)),
        }))
    }

    async fn set_price(
        &self,
        request: Request<pb::SetPriceRequest>,
    ) -> Result<Response<pb::SetPriceResponse>, Status> {
        let caller = authenticated(&request)?;
        let request = request.into_inner();
        let mut violations = Violations::new();
        let list_id = violations.id("price_list_id", &request.price_list_id);
        let product_id = violations.id("product_id", &request.product_id);
        let effective_from = violations.date("effective_from", &request.effective_from);
        let unit_price = match &request.unit_price {
            Some(price) => violations.take(Money::parse("unit_price", price, Sign::NonNegative)),
            None => {
                violations.add("unit_price", "is required");
                None
            }
        };
        violations.into_result().map_err(OpportunitiesError::from)?;
        let (Some(list_id), Some(product_id), Some(effective_from), Some(unit_price)) =
            (list_id, product_id, effective_from, unit_price)
        else {
            return Err(OpportunitiesError::invalid("unit_price", "is required").into());
        };
        let price = self
            .opportunities
            .set_price(&caller, list_id, product_id, effective_from, unit_price)
            .await?;
        Ok(Response::new(pb::SetPriceResponse {
            price: Some(price_message(&price)),
        }))
    }

    async fn list_prices(
        &self,
        request: Request<pb::ListPricesRequest>,
    ) -> Result<Response<pb::ListPricesResponse>, Status> {
        let caller = authenticated(&request)?;
        let request = request.into_inner();
        let mut violations = Violations::new();
        let list_id = violations.id("price_list_id", &request.price_list_id);
        let product_id = violations.optional_id("product_id", &request.product_id);
        let on = violations.optional_date("on", &request.on);
        violations.into_result().map_err(OpportunitiesError::from)?;
        let Some(list_id) = list_id else {
            return Err(OpportunitiesError::invalid("price_list_id", "is required").into());
        };
        let order = if on.is_some() {
            PRICES_ON_A_DAY
        } else {
            PRICES_BY_DAY
        };
        let page = Page::parse(request.page.as_ref(), order).map_err(OpportunitiesError::from)?;
        let listing = self
            .opportunities
            .list_prices(&caller, list_id, product_id, on, &page)
            .await?;
        Ok(Response::new(pb::ListPricesResponse {
            prices: listing.records.iter().map(price_message).collect(),
            page: Some(PageResponse {
                next_page_token: listing.next_page_token,
            }),
        }))
    }
}
