// Every JSON example in docs/protocol.md parses as the message it claims to be.
#include <mesh_test/support.hpp>

#include <fstream>
#include <set>
#include <sstream>

#include <recrypt/request_signature.hpp>
#include <recrypt/schema.hpp>

using namespace recrypt;

TEST_CASE("docs/protocol.md shows a valid example of every request and response", "[schema][doc]") {
    std::ifstream in(std::string(MESH_SOURCE_DIR) + "/docs/protocol.md");
    REQUIRE(in);
    std::stringstream ss;
    ss << in.rdbuf();
    const std::string doc = ss.str();
    std::set<std::string> requests;
    std::set<std::string> responses;
    std::size_t pos = 0;
    int blocks = 0;
    while ((pos = doc.find("```json\n", pos)) != std::string::npos) {
        const std::size_t start = pos + 8;
        const std::size_t end = doc.find("\n```", start);
        REQUIRE(end != std::string::npos);
        const std::string text = doc.substr(start, end - start);
        pos = end;
        ++blocks;
        INFO(text.substr(0, 200));
        const auto j = dare::parse_json(text);
        REQUIRE_OK(j);
        const std::string tag = j->as_object().at(0).first;
        if (tag.ends_with("Response")) {
            const auto v = parse_response(text);
            REQUIRE_OK(v);
            responses.insert(v->transaction);
            if (v->status.code >= 300) continue;
            if (v->transaction == "RecryptData") REQUIRE_OK(recrypt_data_response(*v));
            if (v->transaction == "GetGroup") REQUIRE_OK(get_group_response(*v));
            if (v->transaction == "GetKey") {
                const auto k = get_key_response(*v);
                REQUIRE_OK(k);
                // the example's key record verifies for the group it names
                const auto opened = dare::decode_value(*k->signed_key, dare::OpenOptions{});
                REQUIRE_OK(opened);
                const auto p = opened->payload.expose_secret();
                const auto payload = dare::parse_json(std::string_view(reinterpret_cast<const char*>(p.data()), p.size()));
                REQUIRE_OK(payload);
                const std::string group_id = payload->find("GroupKey")->find("GroupID")->as_string();
                CHECK(verify_key_record(*k->signed_key, group_id).has_value());
            }
        } else {
            const auto r = parse_request(text);
            REQUIRE_OK(r);
            requests.insert(std::string(transaction_name(*r)));
        }
    }
    const std::set<std::string> all = {"Hello", "CreateGroup", "UpdateGroup", "GetGroup",
                                       "AddMember", "UpdateMember", "GetKey", "RecryptData"};
    CHECK(requests == all);
    CHECK(responses == all);
    CHECK(blocks >= 17);
}
