//! Status lists: compressed Token Status List bytes, Bitstring encodings and list
//! tokens (loaded against an empty trust store).
#![no_main]
use govcred::status::{bitstring, token_status_list::StatusList};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // statuslist+cwt (COSE) or a token, as bytes.
    let _ = govcred::status::load_list_bytes(data, &govcred::trust::TrustStore::new(), 0);
    if let Some((&first, rest)) = data.split_first() {
        let bits = [1u8, 2, 4, 8][(first & 3) as usize];
        if let Ok(text) = std::str::from_utf8(rest) {
            if let Ok(list) = StatusList::from_lst(bits, text) {
                let _ = list.get(usize::from(first) * 31);
            }
            let _ = bitstring::BitstringList::decode(bits, text);
            let _ = govcred::status::load_list(text, &govcred::trust::TrustStore::new(), 0);
        }
    }
});
