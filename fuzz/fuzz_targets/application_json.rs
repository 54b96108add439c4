#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| bandi_fuzz::application_json(data));
