// JSON (strict parser) and JSON-B: parse, write back, parse again.
#include <string_view>

#include <dare/json.hpp>
#include <dare/jsonb.hpp>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    if (auto j = dare::parse_json(text)) {
        const std::string again = dare::to_json(*j);
        if (!dare::parse_json(again)) __builtin_trap();  // what we write, we read
    }
    (void)dare::parse_jsonb(std::span<const std::uint8_t>(data, size));
    return 0;
}
