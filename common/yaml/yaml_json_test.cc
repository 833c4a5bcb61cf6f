#include "common/yaml/yaml_json.h"

#include <gtest/gtest.h>

namespace weft::common {
namespace {

TEST(YamlToJsonTest, PlainScalarsResolveByTheCoreSchemaQuotedOnesStayStrings) {
  std::string json, error;
  ASSERT_TRUE(
      yamlToJson("a: 80\nb: \"80\"\nc: true\nd: 0.25s\ne: [1, x]\nf: 1.5\n"
                 "g: TRUE\nh: ~\ni: yes\nj: '1e3'\nk: 1e3\n",
                 &json, &error))
      << error;
  EXPECT_EQ(json, R"({"a":80,"b":"80","c":true,"d":"0.25s","e":[1,"x"],"f":1.5,"g":true,"h":null,)"
                  R"("i":"yes","j":"1e3","k":1000.0})");
}

// Found by bootstrap_fuzz: std::stod threw out_of_range and terminated the proxy.
TEST(YamlToJsonTest, NumbersBeyondRangeStayTextInsteadOfThrowing) {
  std::string json, error;
  std::string huge = "-4" + std::string(400, '4') + "e99999";
  ASSERT_TRUE(yamlToJson("a: " + huge + "\nb: 99999999999999999999999\n", &json, &error)) << error;
  EXPECT_EQ(json, "{\"a\":\"" + huge + "\",\"b\":\"99999999999999999999999\"}");
}

TEST(YamlToJsonTest, KeyOrderIsKept) {
  std::string json, error;
  ASSERT_TRUE(yamlToJson("zeta: 1\nalpha: 2\n", &json, &error)) << error;
  EXPECT_EQ(json, R"({"zeta":1,"alpha":2})");
}

TEST(YamlToJsonTest, ErrorsNameTheLineOrTheDocumentCount) {
  std::string json, error;
  EXPECT_FALSE(yamlToJson("a: 1\nb: [1, 2\n", &json, &error));
  EXPECT_NE(error.find("line"), std::string::npos) << error;
  EXPECT_FALSE(yamlToJson("a: 1\n---\nb: 2\n", &json, &error));
  EXPECT_EQ(error, "one YAML document expected, found 2");
}

TEST(YamlDocumentsToJsonTest, NullDocumentsAreDroppedAndTheRoundTripKeepsTypes) {
  std::vector<nlohmann::ordered_json> docs;
  std::string error;
  ASSERT_TRUE(
      yamlDocumentsToJson("---\n---\nport: 80\nname: \"80\"\nok: \"true\"\n", &docs, &error))
      << error;
  ASSERT_EQ(docs.size(), 1u);
  std::string yaml = jsonDocumentsToYaml(docs);
  std::vector<nlohmann::ordered_json> again;
  ASSERT_TRUE(yamlDocumentsToJson(yaml, &again, &error)) << error;
  EXPECT_EQ(again, docs);
  EXPECT_TRUE(again[0]["port"].is_number());
  EXPECT_TRUE(again[0]["name"].is_string());
  EXPECT_TRUE(again[0]["ok"].is_string());
}

}  // namespace
}  // namespace weft::common
