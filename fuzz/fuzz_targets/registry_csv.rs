#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| bandi_fuzz::registry_csv(bandi_fuzz::utf8_prefix(data)));
