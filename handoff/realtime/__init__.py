"""Frames to every open websocket of a conversation or an agent: the in-process hub (one
gateway) and the same interface over Redis streams (several gateway replicas)."""
