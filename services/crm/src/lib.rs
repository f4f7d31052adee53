//! The suite as one unit: the list of services a process can host and the demo data set.
#![deny(rust_2018_idioms)]
#![forbid(unsafe_code)]

pub mod demo;

use crm_platform::host::ServiceModule;

/// Every service of the suite, in start order.
pub fn all_modules() -> Vec<ServiceModule> {
    vec![
        crm_gateway::module(),
        crm_accounts::module(),
        crm_leads::module(),
        crm_opportunities::module(),
        crm_forecasting::module(),
        crm_compensation::module(),
        crm_knowledge::module(),
    ]
}
