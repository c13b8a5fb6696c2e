"""learner/commands"""
