"""Product reviews in the desk: text analysis, the review inbox, replies, and follow-up cases
for bad reviews (see docs/reviews.md)."""
