//! What every forecasting test starts from: the service alone on real PostgreSQL and NATS, the
//! test standing in for the producers it consumes (the opportunities and accounts services, by
//! publishing their events), and for the gateway by filing the organisation's settings the way
//! the directory consumer would.

use crm_platform::{
    fiscal::FiscalCalendar,
    money::CurrencyCode,
    org::{OrgDirectory, OrgSettings},
};
use crm_test_support::{TestApp, nats_url};

/// The service with the corporate currency CNY and `calendar`; `overrides` are further `CRM_*`
/// settings.
pub async fn start(calendar: FiscalCalendar, overrides: &[(&str, &str)]) -> TestApp {
    let app = TestApp::spawn_with(&[crm_forecasting::module()], &nats_url(), overrides).await;
    // The producers would create their streams; a rebuild replays every one.
    app.stand_in_for("forecasting", "opportunities").await;
    app.stand_in_for("forecasting", "accounts").await;
    let mut connection = app.pool("forecasting").acquire().await.unwrap();
    let settings = OrgSettings {
        corporate_currency: Some(CurrencyCode::CNY),
        fiscal_calendar: calendar,
        version: 1,
        ..OrgSettings::default()
    };
    OrgDirectory::record_settings(&mut connection, &settings)
        .await
        .unwrap();
    app
}
