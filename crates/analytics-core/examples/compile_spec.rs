//! Prints the SQL and parameters a spec compiles to with the shipped catalog (a developer's tool):
//! `cargo run -q -p analytics-core --example compile_spec -- '<spec JSON>' [tenant]`.
use analytics_core::catalog::builtin;
use analytics_core::spec::{compile::compile, parse::parse};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let spec: serde_json::Value = serde_json::from_str(args.get(1).expect("a spec")).expect("JSON");
    let catalog = builtin::metrics().expect("catalog");
    let spec = parse(&spec, &catalog).unwrap_or_else(|e| panic!("{e:?}"));
    let c = compile(&spec, &catalog, args.get(2).map(String::as_str).unwrap_or("acme")).expect("compiles");
    println!("{}", c.sql);
    eprintln!("{:?}", c.params);
}
