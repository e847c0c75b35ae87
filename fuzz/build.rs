//! Compiles the library files borrowed in src/lib.rs without their database column mappings: the
//! id types derive sea-orm's `DeriveValueType` only when `edgepass_without_database` is not set, and
//! this crate does not depend on sea-orm (see the note in src/lib.rs on why).

fn main() {
    println!("cargo::rustc-cfg=edgepass_without_database");
}
