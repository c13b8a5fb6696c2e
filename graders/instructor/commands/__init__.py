"""instructor/commands"""
