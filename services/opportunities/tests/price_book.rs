//! The price book (`PriceBookService`): products, price lists with one default per currency and
//! dated prices — over a real tonic client against real PostgreSQL and NATS.

mod support;

use crm_proto::crm::opportunities::v1 as pb;
use crm_test_support::user;
use support::*;
use tonic::Code;
use uuid::Uuid;

#[tokio::test]
async fn an_admin_keeps_products_with_unique_codes_versions_and_retries() {
    let harness = Harness::start().await;
    let admin = harness.admin.clone();
    let id = Uuid::now_v7().to_string();
    let request = pb::CreateProductRequest {
        product_id: id.clone(),
        ..product("  LINE3-Robot ", " Line 3 robot cell ", "Robotics")
    };
    let robot = harness
        .create_product(&admin, request.clone())
        .await
        .unwrap();
    assert_eq!(
        (robot.id.as_str(), robot.code.as_str(), robot.name.as_str()),
        (id.as_str(), "LINE3-Robot", "Line 3 robot cell")
    );
    assert_eq!(
        (robot.unit.as_str(), robot.active, robot.version),
        ("each", true, 1)
    );
    // A retry returns the first result; another admin's retry with the id is ID_TAKEN.
    let again = harness
        .create_product(&admin, request.clone())
        .await
        .unwrap();
    assert_eq!(again, robot);
    let other_admin = user("admin", NORTHWIND);
    let taken = harness
        .create_product(&other_admin, request)
        .await
        .unwrap_err();
    assert_eq!(
        (taken.code(), reason(&taken)),
        (Code::AlreadyExists, "ID_TAKEN".into())
    );
    // Codes are one without regard to case.
    let clash = product("line3-robot", "Another", "");
    let clash = harness.create_product(&admin, clash).await.unwrap_err();
    assert_eq!(
        (clash.code(), reason(&clash)),
        (Code::AlreadyExists, "NAME_TAKEN".into())
    );
    assert!(clash.message().contains("product"), "{}", clash.message());
    // Every broken field at once.
    let broken = pb::CreateProductRequest {
        unit: "h".repeat(33),
        product_id: "not-an-id".into(),
        ..product(" ", &"x".repeat(201), "")
    };
    let broken = harness.create_product(&admin, broken).await.unwrap_err();
    assert_eq!(broken.code(), Code::InvalidArgument);
    assert_eq!(fields(&broken), ["product_id", "code", "name", "unit"]);
    // Versions: a stale expected version is ABORTED; a change that changes nothing is none.
    let rename = |version: u64| pb::UpdateProductRequest {
        product_id: id.clone(),
        name: Some("Line 3 robot cell, mk II".into()),
        unit: Some("cell".into()),
        expected_version: version,
        ..Default::default()
    };
    let renamed = harness.update_product(&admin, rename(1)).await.unwrap();
    assert_eq!(
        (renamed.name.as_str(), renamed.unit.as_str()),
        ("Line 3 robot cell, mk II", "cell")
    );
    assert_eq!((renamed.code.as_str(), renamed.version), ("LINE3-Robot", 2));
    let stale = harness.update_product(&admin, rename(1)).await.unwrap_err();
    assert_eq!(stale.code(), Code::Aborted);
    let same = harness.update_product(&admin, rename(2)).await.unwrap();
    assert_eq!(same.version, 2);
    let missing = pb::UpdateProductRequest {
        product_id: Uuid::now_v7().to_string(),
        active: Some(false),
        ..Default::default()
    };
    let missing = harness.update_product(&admin, missing).await.unwrap_err();
    assert_eq!(missing.code(), Code::NotFound);
}

#[tokio::test]
async fn products_are_listed_by_code_in_pages_by_family_activity_and_text() {
    let harness = Harness::start().await;
    let admin = harness.admin.clone();
    let mut ids = Vec::new();
    for (code, name, family) in [
        ("SVC-INSTALL", "Installation day", "Services"),
        ("BOT-ARM", "Robot arm", "Robotics"),
        ("BOT-CELL", "Robot cell 50%", "robotics"),
        ("SVC-TRAIN", "Operator training", "Services"),
        ("BOT-OLD", "Retired arm", "Robotics"),
    ] {
        let made = harness
            .create_product(&admin, product(code, name, family))
            .await;
        ids.push(made.unwrap().id);
    }
    let retire = pb::UpdateProductRequest {
        product_id: ids[4].clone(),
        active: Some(false),
        ..Default::default()
    };
    harness.update_product(&admin, retire).await.unwrap();
    let all = pb::ListProductsRequest::default();
    let active = ["BOT-ARM", "BOT-CELL", "SVC-INSTALL", "SVC-TRAIN"];
    assert_eq!(harness.list_products(all.clone()).await, active);
    let with_inactive = pb::ListProductsRequest {
        include_inactive: true,
        ..all.clone()
    };
    let every = ["BOT-ARM", "BOT-CELL", "BOT-OLD", "SVC-INSTALL", "SVC-TRAIN"];
    assert_eq!(harness.list_products(with_inactive).await, every);
    let robotics = pb::ListProductsRequest {
        family: "ROBOTICS".into(),
        ..all.clone()
    };
    assert_eq!(
        harness.list_products(robotics).await,
        ["BOT-ARM", "BOT-CELL"]
    );
    let arms = pb::ListProductsRequest {
        text: "arm".into(),
        include_inactive: true,
        ..all.clone()
    };
    assert_eq!(harness.list_products(arms).await, ["BOT-ARM", "BOT-OLD"]);
    // The caller's % is a character, not a wildcard; the text is looked for in codes too.
    let percent = pb::ListProductsRequest {
        text: "50%".into(),
        ..all.clone()
    };
    assert_eq!(harness.list_products(percent).await, ["BOT-CELL"]);
    let code = pb::ListProductsRequest {
        text: "svc-".into(),
        ..all
    };
    assert_eq!(
        harness.list_products(code).await,
        ["SVC-INSTALL", "SVC-TRAIN"]
    );
}

#[tokio::test]
async fn the_first_list_of_a_currency_is_its_default_and_the_default_moves() {
    let harness = Harness::start().await;
    let admin = harness.admin.clone();
    let china = harness
        .create_list(&admin, price_list("China", "CNY"))
        .await
        .unwrap();
    assert!(china.is_default);
    let key_accounts = harness
        .create_list(&admin, price_list("Key accounts", "CNY"))
        .await
        .unwrap();
    assert!(!key_accounts.is_default);
    let europe = harness
        .create_list(&admin, price_list("Europe", "EUR"))
        .await
        .unwrap();
    assert!(europe.is_default);
    assert_eq!(harness.lists("CNY").await, ["China*", "Key accounts"]);
    // Names are unique without regard to case; a retry with the id returns the first result.
    let clash = harness
        .create_list(&admin, price_list("CHINA", "USD"))
        .await
        .unwrap_err();
    assert_eq!(
        (clash.code(), reason(&clash)),
        (Code::AlreadyExists, "NAME_TAKEN".into())
    );
    let retried = pb::CreatePriceListRequest {
        price_list_id: europe.id.clone(),
        ..price_list("Europe", "EUR")
    };
    assert_eq!(harness.create_list(&admin, retried).await.unwrap(), europe);
    // The default moves in one change; the previous default is a new version of itself.
    let promote = pb::UpdatePriceListRequest {
        price_list_id: key_accounts.id.clone(),
        make_default: true,
        expected_version: 1,
        ..Default::default()
    };
    let promoted = harness.update_list(&admin, promote).await.unwrap();
    assert!(promoted.is_default);
    assert_eq!(promoted.version, 2);
    assert_eq!(harness.lists("CNY").await, ["Key accounts*", "China"]);
    assert_eq!(harness.lists("EUR").await, ["Europe*"]);
    // The default is not retired; another list is.
    let retire = |list: &pb::PriceList| pb::UpdatePriceListRequest {
        price_list_id: list.id.clone(),
        active: Some(false),
        ..Default::default()
    };
    let refused = harness
        .update_list(&admin, retire(&key_accounts))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::FailedPrecondition);
    assert_eq!(reason(&refused), "DEFAULT_PRICE_LIST");
    let retired = harness.update_list(&admin, retire(&china)).await.unwrap();
    assert_eq!(
        (retired.active, retired.is_default, retired.version),
        (false, false, 3)
    );
    // An inactive list is no default: the request's field is named.
    let back = pb::UpdatePriceListRequest {
        price_list_id: china.id.clone(),
        make_default: true,
        ..Default::default()
    };
    let refused = harness.update_list(&admin, back).await.unwrap_err();
    assert_eq!(refused.code(), Code::FailedPrecondition);
    assert_eq!(fields(&refused), ["make_default"]);
    // A new list made the default takes the flag at its creation.
    let made = pb::CreatePriceListRequest {
        make_default: true,
        ..price_list("China 2028", "CNY")
    };
    assert!(harness.create_list(&admin, made).await.unwrap().is_default);
    assert_eq!(
        harness.lists("CNY").await,
        ["China 2028*", "China", "Key accounts"]
    );
}

#[tokio::test]
async fn dated_prices_apply_from_their_day_until_the_next() {
    let harness = Harness::start().await;
    let admin = harness.admin.clone();
    let list = harness
        .create_list(&admin, price_list("China", "CNY"))
        .await
        .unwrap();
    let arm = harness
        .create_product(&admin, product("BOT-ARM", "Robot arm", ""))
        .await
        .unwrap();
    let cell = harness
        .create_product(&admin, product("BOT-CELL", "Cell", ""))
        .await
        .unwrap();
    let set = |product: &pb::Product, from: &str, amount: &str| {
        let (product, from, amount) = (product.id.clone(), from.to_owned(), amount.to_owned());
        let (harness, admin, list) = (&harness, &admin, &list);
        async move {
            let price = money("CNY", &amount);
            harness
                .set_price(admin, &list.id, &product, &from, price)
                .await
        }
    };
    let first = set(&arm, "2027-01-01", "100000").await.unwrap();
    assert_eq!(
        (first.product_code.as_str(), first.product_name.as_str()),
        ("BOT-ARM", "Robot arm")
    );
    assert_eq!(first.set_by, admin.user_id.to_string());
    set(&arm, "2027-07-01", "110000").await.unwrap();
    set(&cell, "2027-03-01", "5000.5").await.unwrap();
    // Set again for the same day: replaced, not added.
    let replaced = set(&arm, "2027-07-01", "108000.00").await.unwrap();
    assert_eq!(replaced.unit_price, money("CNY", "108000"));
    let all = harness.prices(&admin, &list.id, "", "").await;
    assert_eq!(
        all,
        [
            "BOT-ARM 2027-07-01 108000",
            "BOT-CELL 2027-03-01 5000.5",
            "BOT-ARM 2027-01-01 100000",
        ]
    );
    let arm_only = harness.prices(&admin, &list.id, "", &arm.id).await;
    assert_eq!(
        arm_only,
        ["BOT-ARM 2027-07-01 108000", "BOT-ARM 2027-01-01 100000"]
    );
    // On a day: the latest price dated on or before it, per product.
    let on = |day: &'static str| harness.prices(&admin, &list.id, day, "");
    assert_eq!(on("2026-12-31").await, Vec::<String>::new());
    assert_eq!(on("2027-01-01").await, ["BOT-ARM 2027-01-01 100000"]);
    let spring = ["BOT-ARM 2027-01-01 100000", "BOT-CELL 2027-03-01 5000.5"];
    assert_eq!(on("2027-06-30").await, spring);
    let summer = ["BOT-ARM 2027-07-01 108000", "BOT-CELL 2027-03-01 5000.5"];
    assert_eq!(on("2027-07-01").await, summer);
    // The list's currency only, the currency's digits, a list and a product that exist.
    let euros = harness
        .set_price(&admin, &list.id, &arm.id, "2027-08-01", money("EUR", "1"))
        .await
        .unwrap_err();
    assert_eq!(euros.code(), Code::FailedPrecondition);
    assert_eq!(fields(&euros), ["unit_price.currency_code"]);
    let digits = set(&arm, "2027-08-01", "1.001").await.unwrap_err();
    assert_eq!(
        (digits.code(), fields(&digits)),
        (Code::InvalidArgument, vec!["unit_price.amount".to_owned()])
    );
    let nowhere = Uuid::now_v7().to_string();
    let unknown = harness.set_price(&admin, &nowhere, &arm.id, "2027-08-01", money("CNY", "1"));
    assert_eq!(unknown.await.unwrap_err().code(), Code::NotFound);
    let unknown = harness.set_price(&admin, &list.id, &nowhere, "2027-08-01", money("CNY", "1"));
    assert_eq!(unknown.await.unwrap_err().code(), Code::NotFound);
}

#[tokio::test]
async fn only_admins_change_the_book_and_every_role_reads_it() {
    let harness = Harness::start().await;
    let admin = harness.admin.clone();
    let list = harness
        .create_list(&admin, price_list("China", "CNY"))
        .await
        .unwrap();
    let arm = harness
        .create_product(&admin, product("BOT-ARM", "Robot arm", ""))
        .await
        .unwrap();
    harness
        .set_price(&admin, &list.id, &arm.id, "2027-01-01", money("CNY", "100"))
        .await
        .unwrap();
    for caller in [user("manager", EAST), user("rep", EAST_1)] {
        let denied = [
            harness
                .create_product(&caller, product("X-1", "X", ""))
                .await
                .unwrap_err(),
            harness
                .create_list(&caller, price_list("Mine", "USD"))
                .await
                .unwrap_err(),
            harness
                .set_price(&caller, &list.id, &arm.id, "2027-02-01", money("CNY", "1"))
                .await
                .unwrap_err(),
            harness
                .update_product(
                    &caller,
                    pb::UpdateProductRequest {
                        product_id: arm.id.clone(),
                        active: Some(false),
                        ..Default::default()
                    },
                )
                .await
                .unwrap_err(),
            harness
                .update_list(
                    &caller,
                    pb::UpdatePriceListRequest {
                        price_list_id: list.id.clone(),
                        name: Some("Theirs".into()),
                        ..Default::default()
                    },
                )
                .await
                .unwrap_err(),
        ];
        assert!(
            denied
                .iter()
                .all(|status| status.code() == Code::PermissionDenied)
        );
        let request = harness.request(
            &caller,
            pb::GetProductRequest {
                product_id: arm.id.clone(),
            },
        );
        let read = harness.book.clone().get_product(request).await.unwrap();
        assert_eq!(read.into_inner().product.unwrap(), arm);
        let prices = harness.prices(&caller, &list.id, "2027-01-01", "").await;
        assert_eq!(prices, ["BOT-ARM 2027-01-01 100"]);
    }
    let unknown = pb::GetProductRequest {
        product_id: Uuid::now_v7().to_string(),
    };
    let request = harness.request(&admin, unknown);
    let missing = harness.book.clone().get_product(request).await.unwrap_err();
    assert_eq!(missing.code(), Code::NotFound);
}
