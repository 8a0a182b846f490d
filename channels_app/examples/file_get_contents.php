<?php
$context = stream_context_create([
    "http" => [
        "method" => "POST",
        "header" => "Content-Type: application/json\r\nX-API-Key: __KEY__\r\n",
        "content" => json_encode([
            "message" => "Hello! What can you help me with?",
            "session_id" => "user-session-abc123",
        ]),
        "ignore_errors" => true, // read the {"error": ...} body of a 4xx/5xx too
        "timeout" => 90,
    ],
]);
$body = file_get_contents("__HOST__/api/chat", false, $context);
if ($body === false) {
    fwrite(STDERR, "Could not reach the gateway\n");
    exit(1);
}
$data = json_decode($body, true);
if (isset($data["error"])) {
    fwrite(STDERR, $data["error"] . "\n");
    exit(1);
}
echo $data["reply"], "\n";
