// UDF text: Base32 decoding, parsing and matching, Shamir share parsing.
#include <string_view>

#include <udf/base32.hpp>
#include <udf/shamir.hpp>
#include <udf/udf.hpp>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    (void)udf::decode(text);
    (void)udf::parse_share(text);
    const auto half = text.substr(0, size / 2);
    (void)udf::matches(half, text.substr(size / 2));
    if (auto b = udf::decode(text); b && b->size() > 0) (void)udf::present_full(b->expose_secret());
    return 0;
}
