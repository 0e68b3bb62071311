// Service messages and request signatures: the schema parser, and the signature verifier over
// headers taken from the input's first three lines (the rest is the body).
#include <string_view>

#include <recrypt/request_signature.hpp>
#include <recrypt/schema.hpp>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view text(reinterpret_cast<const char*>(data), size);
    (void)recrypt::parse_request(text);
    (void)recrypt::parse_response(text);
    recrypt::SignedHeaders h;
    std::string* fields[] = {&h.content_digest, &h.signature_input, &h.signature};
    for (auto* f : fields) {
        const auto nl = text.find('\n');
        *f = std::string(text.substr(0, nl));
        text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    }
    static const auto key = dare::SignaturePrivateKey::from_seed(std::vector<std::uint8_t>(32, 9)).value();
    const recrypt::KeyLookup lookup = [](std::string_view kid) -> std::optional<dare::SignaturePublicKey> {
        if (kid == key.public_key().kid()) return key.public_key();
        return std::nullopt;
    };
    static recrypt::ReplayCache replay;
    (void)recrypt::verify_request(h, "POST", "/.well-known/recrypt", mesh::as_bytes(text), lookup,
                                  recrypt::VerifyOptions{std::chrono::seconds(1'000'000'000), 1'800'000'000, &replay});
    return 0;
}
