// Profile verification (personal, master, device) and recovery records.
#include <string_view>

#include <dare/json.hpp>
#include <meshprofile/escrow.hpp>
#include <meshprofile/profile.hpp>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const auto j = dare::parse_json(std::string_view(reinterpret_cast<const char*>(data), size));
    if (!j) return 0;
    (void)meshprofile::verify_personal(*j);
    (void)meshprofile::verify_master(*j);
    (void)meshprofile::verify_device(*j);
    (void)meshprofile::recover_master(*j, {"MAAA-AAAA-AAAA", "MAAB-AAAA-AAAA"});
    (void)meshprofile::master_secrets_from_json(*j, "fuzz");
    return 0;
}
