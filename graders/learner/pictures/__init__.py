"""learner/pictures"""
