// DARE envelopes, both forms, parsed and opened with a fixed key (so inputs made for that key
// get as far as decryption) and a signer lookup.
#include <string_view>

#include <dare/envelope.hpp>
#include <mesh/random.hpp>

namespace {
struct Keys {
    dare::PrivateKey key = dare::PrivateKey::from_bytes(std::vector<std::uint8_t>(32, 7)).value();
    dare::PrivateKeyAgreement agreement;
    Keys() { agreement.add(key); }
};
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static Keys keys;
    const dare::OpenOptions options{&keys.agreement, [](std::string_view) { return std::optional<dare::SignaturePublicKey>{}; }, false};
    (void)dare::decode_binary(std::span<const std::uint8_t>(data, size), options);
    (void)dare::decode_json(std::string_view(reinterpret_cast<const char*>(data), size), options);
    dare::SpanSource src(std::span<const std::uint8_t>(data, size));
    (void)dare::read_header(src);
    return 0;
}
