//! Explains a raw BPF file: `cargo run -p syscage --example explain_fixture FILE [be]`.
fn main() {
    let args: Vec<String> = std::env::args().collect();
    let order = if args.get(2).is_some_and(|a| a == "be") {
        syscage::bpf::ByteOrder::Big
    } else {
        syscage::bpf::ByteOrder::Little
    };
    let bytes = std::fs::read(&args[1]).expect("read");
    let prog = syscage::bpf::Program::from_bytes(&bytes, order).expect("decode");
    let table = syscage::analyze::lift::lift(&prog, order, &Default::default()).expect("lift");
    let e =
        syscage::analyze::explain::explain(&table, &[syscage::arch::Arch::X86_64.audit()], &|_| {
            None
        });
    print!("{}", e.render(&args[1]));
}
