"""The live view in Foxglove (`attune view`): payloads from attune's types, and the WebSocket server."""
