//! Rebuilds the crate when a built-in policy is added, removed or changed (they are embedded
//! in the binary).

fn main() {
    println!("cargo:rerun-if-changed=policies");
}
