"""A Model Context Protocol server (the official `mcp` SDK) that lets an assistant read a
site's analytics with the caller's API key and nothing more: `tools.py` defines the read-only
tools over Traytic's own HTTP API (`backends.py` reaches it in-process or over the network),
`mount.py` serves them on the query service (streamable HTTP at `/mcp`), and `traytic mcp`
runs them over stdio. Import the submodules you need: the SDK is slow to import."""
