//! Northwind's price book, set up by Ada: what it sells (robot cells, vision stations,
//! conveyors, the control software, installation, training, spare parts and maintenance) and
//! three price lists — yuan (the default for deals in CNY), dollars and euros — each with the
//! prices of 2025 and a rise from 1 July 2026, so a deal priced today takes the newer price and
//! the book shows its history.
//!
//! Products and lists have fixed ids (a retried create returns the first result); a price is set
//! only while its list has none for that product and day. So a second run writes nothing.

use crm_platform::host::LocalGrpc;
use crm_proto::crm::{
    common::v1::Money,
    opportunities::v1::{
        CreatePriceListRequest, CreateProductRequest, ListPricesRequest, SetPriceRequest,
        price_book_service_client::PriceBookServiceClient,
    },
};
use uuid::Uuid;

use super::{ADA, Api, failed};

/// A product of the book: (id, code, name, family, unit).
type Product = (u128, &'static str, &'static str, &'static str, &'static str);

pub(super) const LINE3_ROBOT: &str = "LINE3-ROBOT";
pub(super) const INSTALL_DAY: &str = "INSTALL-DAY";

const PRODUCTS: &[Product] = &[
    (
        0xb00c_0001,
        LINE3_ROBOT,
        "Line 3 robot cell",
        "Robotics",
        "each",
    ),
    (
        0xb00c_0002,
        "VISION-QC",
        "Vision quality-control station",
        "Robotics",
        "each",
    ),
    (
        0xb00c_0003,
        "CONVEYOR-M",
        "Modular conveyor",
        "Conveyors",
        "metre",
    ),
    (
        0xb00c_0004,
        "PLC-SUITE",
        "Line control software",
        "Software",
        "licence-year",
    ),
    (
        0xb00c_0005,
        INSTALL_DAY,
        "Installation engineer",
        "Services",
        "day",
    ),
    (
        0xb00c_0006,
        "TRAINING",
        "Operator training course",
        "Services",
        "course",
    ),
    (
        0xb00c_0007,
        "SPARES-KIT",
        "Spare parts kit",
        "Parts",
        "each",
    ),
    (
        0xb00c_0008,
        "MAINT-YEAR",
        "Maintenance contract per line",
        "Services",
        "year",
    ),
];

/// A price list: (id, name, currency).
const LISTS: &[(u128, &str, &str)] = &[
    (0xb00c_1001, "China list prices", "CNY"),
    (0xb00c_1002, "US list prices", "USD"),
    (0xb00c_1003, "Euro list prices", "EUR"),
];

/// The days the prices apply from: the 2025 prices, and the rise of mid-2026.
const PRICED_FROM: [&str; 2] = ["2025-01-01", "2026-07-01"];

/// Yuan prices per product (2025, from July 2026), in the order of [`PRODUCTS`]; the dollar and
/// euro lists are these at round rates (see [`in_currency`]).
const CNY_PRICES: &[(&str, &str)] = &[
    ("480000.00", "500000.00"),
    ("150000.00", "158000.00"),
    ("2400.00", "2500.00"),
    ("36000.00", "38000.00"),
    ("4800.00", "5200.00"),
    ("9000.00", "9500.00"),
    ("18000.00", "18500.00"),
    ("60000.00", "64000.00"),
];

fn id(value: u128) -> String {
    Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0000 | value).to_string()
}

/// A yuan price in `currency`, at the book's own round rates (7.2 yuan a dollar, 7.8 a euro),
/// to the cent.
fn in_currency(cny: &str, currency: &str) -> String {
    let yuan: rust_decimal::Decimal = cny.parse().expect("the demo's prices are decimals");
    let rate = match currency {
        "USD" => rust_decimal::Decimal::new(72, 1),
        "EUR" => rust_decimal::Decimal::new(78, 1),
        _ => rust_decimal::Decimal::ONE,
    };
    (yuan / rate).round_dp(2).to_string()
}

pub(super) async fn load(api: &Api) -> anyhow::Result<()> {
    let mut book = PriceBookServiceClient::new(api.channel());
    for (product, code, name, family, unit) in PRODUCTS {
        let request = CreateProductRequest {
            code: (*code).into(),
            name: (*name).into(),
            family: (*family).into(),
            unit: (*unit).into(),
            description: String::new(),
            product_id: id(*product),
        };
        book.create_product(api.as_member(&ADA, request))
            .await
            .map_err(failed(format!("product {code}")))?;
    }
    for (list, name, currency) in LISTS {
        let request = CreatePriceListRequest {
            name: (*name).into(),
            currency_code: (*currency).into(),
            description: format!("Northwind's list prices in {currency}"),
            make_default: false,
            price_list_id: id(*list),
        };
        book.create_price_list(api.as_member(&ADA, request))
            .await
            .map_err(failed(format!("price list {name}")))?;
        for ((product, code, ..), prices) in PRODUCTS.iter().zip(CNY_PRICES) {
            let (before, after) = *prices;
            for (day, cny) in PRICED_FROM.iter().zip([before, after]) {
                let price = in_currency(cny, currency);
                set_price_once(
                    api,
                    &mut book,
                    &id(*list),
                    &id(*product),
                    day,
                    currency,
                    &price,
                )
                .await
                .map_err(|error| error.context(format!("the price of {code} in {name}")))?;
            }
        }
    }
    Ok(())
}

/// Sets a product's price in a list from `day` unless the list has a price for it that day.
async fn set_price_once(
    api: &Api,
    book: &mut PriceBookServiceClient<LocalGrpc>,
    list: &str,
    product: &str,
    day: &str,
    currency: &str,
    amount: &str,
) -> anyhow::Result<()> {
    let known = book
        .list_prices(api.as_member(
            &ADA,
            ListPricesRequest {
                price_list_id: list.into(),
                product_id: product.into(),
                on: String::new(),
                page: None,
            },
        ))
        .await
        .map_err(failed("prices"))?
        .into_inner()
        .prices;
    if known.iter().any(|price| price.effective_from == day) {
        return Ok(());
    }
    book.set_price(api.as_member(
        &ADA,
        SetPriceRequest {
            price_list_id: list.into(),
            product_id: product.into(),
            effective_from: day.into(),
            unit_price: Some(Money {
                currency_code: currency.into(),
                amount: amount.into(),
            }),
        },
    ))
    .await
    .map_err(failed("set price"))?;
    Ok(())
}
