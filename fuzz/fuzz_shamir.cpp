// Shamir recovery from any lines of share text.
#include <string_view>
#include <vector>

#include <udf/shamir.hpp>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view text(reinterpret_cast<const char*>(data), size);
    std::vector<mesh::SecureBytes> shares;
    while (!text.empty() && shares.size() < 16) {
        const auto nl = text.find('\n');
        if (auto s = udf::parse_share(text.substr(0, nl))) shares.push_back(std::move(s).value());
        if (nl == std::string_view::npos) break;
        text.remove_prefix(nl + 1);
    }
    (void)udf::shamir_recover(shares);
    return 0;
}
