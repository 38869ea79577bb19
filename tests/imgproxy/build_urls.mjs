// Builds imgproxy URLs with the official client, @imgproxy/imgproxy-node (npm).
// stdin: {"endpoint", "key", "salt", "cases": [{"source", "display", "options", "info"}]}
// ("info": true builds an info URL, imgproxy Pro's `{endpoint}/info/{signature}/…`)
// stdout: a JSON array of URLs, one per case, in order.
import { generateImageInfoUrl, generateImageUrl } from "@imgproxy/imgproxy-node";

let input = "";
process.stdin.setEncoding("utf8");
for await (const chunk of process.stdin) input += chunk;
const request = JSON.parse(input);
const urls = request.cases.map((item) =>
  (item.info ? generateImageInfoUrl : generateImageUrl)({
    endpoint: request.endpoint,
    url: { value: item.source, displayAs: item.display },
    options: item.options,
    key: request.key,
    salt: request.salt,
  }),
);
process.stdout.write(JSON.stringify(urls));
