//! `crm-knowledge`: the knowledge service alone, as deployed on Kubernetes.

use std::process::ExitCode;

fn main() -> ExitCode {
    crm_platform::host::main_for(&[crm_knowledge::module()])
}
